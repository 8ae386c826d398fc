variable "customer_id" {
  description = "Customer identifier"
  type        = string
}

variable "instance_class" {
  description = "RDS instance class"
  type        = string
  default     = "db.t3.micro"
}

variable "storage_gb" {
  description = "Allocated storage in GiB"
  type        = number
  default     = 20
}

variable "engine_version" {
  description = "PostgreSQL major version"
  type        = string
  default     = "16"
}
