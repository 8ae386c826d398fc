"""gitops-checks: a pull-request gate for multi-customer GitOps configuration repositories."""

__version__ = "0.1.0"
