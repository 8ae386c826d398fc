variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "sterling-cooper"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "silver"
}
