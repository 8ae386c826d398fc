variable "customer_id" {
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "yoyodyne"
}

variable "tier" {
  description = "Service tier"
  type        = string
  default     = "gold"
}
