variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "prestige-worldwide"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "gold"
}
