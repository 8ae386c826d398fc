variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "stark-industries"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "silver"
}
