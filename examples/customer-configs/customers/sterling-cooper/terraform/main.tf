terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket = "example-platform-tfstate"
    key    = "customers/sterling-cooper/terraform.tfstate"
    region = "us-east-1"
  }
}

module "namespace" {
  source      = "../../../shared/terraform-modules/customer-namespace"
  customer_id = var.customer_id
  tier        = var.tier
  labels = {
    customer = var.customer_id
    tier     = var.tier
  }
}

module "database" {
  source         = "../../../shared/terraform-modules/database"
  customer_id    = var.customer_id
  instance_class = var.tier == "gold" ? "db.r6g.large" : "db.t3.medium"
  storage_gb     = 100
}
