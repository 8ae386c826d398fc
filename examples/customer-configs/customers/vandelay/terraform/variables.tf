variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "vandelay"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "silver"
}
