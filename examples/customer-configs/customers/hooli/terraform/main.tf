terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket = "example-platform-tfstate"
    key    = "customers/hooli/terraform.tfstate"
    region = "eu-central-1"
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
