resource "aws_db_instance" "this" {
  identifier          = "${var.customer_id}-db"
  engine              = "postgres"
  engine_version      = var.engine_version
  instance_class      = var.instance_class
  allocated_storage   = var.storage_gb
  storage_encrypted   = true
  skip_final_snapshot = false
  manage_master_user_password = true
  username            = "platform"
}
