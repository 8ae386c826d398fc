variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "pied-piper"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "silver"
}
