variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "acme-corp"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "gold"
}
