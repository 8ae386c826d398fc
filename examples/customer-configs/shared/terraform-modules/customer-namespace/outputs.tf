output "namespace" {
  description = "The customer's namespace"
  value       = kubernetes_namespace.this.metadata[0].name
}
