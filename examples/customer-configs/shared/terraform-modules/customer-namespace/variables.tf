variable "customer_id" {
  description = "Customer identifier"
  type        = string
}

variable "tier" {
  description = "Service tier: gold, silver or bronze"
  type        = string
  default     = "bronze"
}

variable "labels" {
  description = "Extra labels for the namespace"
  type        = map(string)
  default     = {}
}
