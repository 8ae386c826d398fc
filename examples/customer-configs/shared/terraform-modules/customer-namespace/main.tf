resource "kubernetes_namespace" "this" {
  metadata {
    name   = var.customer_id
    labels = merge(var.labels, { "platform.example.com/tier" = var.tier })
  }
}

resource "kubernetes_resource_quota" "this" {
  metadata {
    name      = "default-quota"
    namespace = kubernetes_namespace.this.metadata[0].name
  }
  spec {
    hard = {
      "requests.cpu"    = var.tier == "gold" ? "16" : "4"
      "requests.memory" = var.tier == "gold" ? "64Gi" : "16Gi"
    }
  }
}
