variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "wernham-hogg"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "bronze"
}
