"""A customer-configs / platform-infrastructure pair assembled from public material only
(tests/data/realworld/SOURCES.tsv and tests/data/charts/SOURCES.tsv), as a new user would try
the suite: real charts with their own values and schemas as products, real SOPS files from
helm-secrets and Flux, and customer overrides written in each chart's own shape."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import DATA, write_tree

REALWORLD = DATA / "realworld"
CHARTS = DATA / "charts"

# product -> folder holding the chart's values.yaml (and values.schema.json when it has one)
CHART_DIRS: dict[str, Path] = {
    "postgresql": CHARTS / "postgresql",
    "redis": CHARTS / "redis",
    "nginx": CHARTS / "nginx",
    "traefik": CHARTS / "traefik",
    "cert-manager": CHARTS / "cert-manager",
    **{name: REALWORLD / "charts" / name for name in (
        "prometheus", "alertmanager", "prometheus-mysql-exporter", "prometheus-sql-exporter",
        "prometheus-postgres-exporter", "prometheus-redis-exporter", "prometheus-rabbitmq-exporter",
        "prometheus-elasticsearch-exporter", "prometheus-mongodb-exporter", "prometheus-pgbouncer-exporter",
        "kube-state-metrics", "prometheus-blackbox-exporter", "prometheus-pushgateway")},
}

# What a customer sets for production, in each chart's own shape (the shapes the starter
# policies must understand: primary.*, master.*/replica.*, server.*, deployment.replicas, presets).
PROD_OVERRIDES: dict[str, str] = {
    "postgresql": """\
auth:
  existingSecret: acme-postgresql
  secretKeys:
    adminPasswordKey: postgres-password
    userPasswordKey: password
architecture: replication
primary:
  resources:
    requests: {cpu: 500m, memory: 1Gi}
    limits: {memory: 2Gi}
readReplicas:
  replicaCount: 2
  resourcesPreset: medium
""",
    "redis": """\
auth:
  existingSecret: acme-redis
  existingSecretPasswordKey: redis-password
master:
  resources:
    requests: {cpu: 250m, memory: 512Mi}
    limits: {memory: 1Gi}
replica:
  replicaCount: 3
  resourcesPreset: small
""",
    "nginx": """\
replicaCount: 2
resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits: {memory: 256Mi}
""",
    "traefik": """\
deployment:
  replicas: 2
resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits: {memory: 256Mi}
""",
    "cert-manager": """\
replicaCount: 2
resources:
  requests: {cpu: 50m, memory: 128Mi}
  limits: {memory: 256Mi}
webhook:
  replicaCount: 2
  resources:
    requests: {cpu: 20m, memory: 64Mi}
    limits: {memory: 128Mi}
cainjector:
  replicaCount: 2
  resources:
    requests: {cpu: 20m, memory: 128Mi}
    limits: {memory: 256Mi}
startupapicheck:
  resources:
    requests: {cpu: 10m, memory: 32Mi}
    limits: {memory: 64Mi}
""",
    "prometheus": """\
server:
  replicaCount: 2
  resources:
    requests: {cpu: 500m, memory: 2Gi}
    limits: {memory: 4Gi}
configmapReload:
  prometheus:
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {memory: 64Mi}
""",
    "alertmanager": """\
replicaCount: 2
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {memory: 128Mi}
""",
}
DEFAULT_OVERRIDE = """\
replicaCount: 2
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {memory: 128Mi}
"""
# charts that count replicas in `replicas`
REPLICAS_KEY = {"kube-state-metrics", "prometheus-blackbox-exporter", "prometheus-mongodb-exporter"}
# Redis' kubectl, sysctl and volumePermissions containers run only with options this customer
# does not use; its chart declares where its workloads are (policies.workloads in the settings).
SETTINGS = """\
environments: [prod]
policies:
  workloads:
    redis: [master, replica, sentinel, metrics]
"""


def build_charts_pair(root: Path, products: list[str] | None = None, tier: str = "silver") -> tuple[Path, Path]:
    """customer-configs + platform-infrastructure with each real chart as a product, one customer
    subscribed to all of them in prod; returns (configs, infra)."""
    configs, infra = root / "customer-configs", root / "platform-infrastructure"
    names = products or sorted(CHART_DIRS)
    files: dict[str, str | bytes] = {
        ".gitops-checks.yaml": SETTINGS,
        "customers/acme/metadata.yaml": f"id: acme\nname: Acme\ntier: {tier}\n",
        "customers/acme/products.yaml": "products:\n" + "".join(f"  - name: {n}\n" for n in names),
    }
    infra_files: dict[str, str | bytes] = {}
    for name in names:
        chart = CHART_DIRS[name]
        values = (chart / "values.yaml").read_bytes()
        files[f"products/{name}/base-values.yaml"] = values
        files[f"products/{name}/environments/prod.yaml"] = "{}\n"
        override = PROD_OVERRIDES.get(name, DEFAULT_OVERRIDE)
        files[f"customers/acme/{name}/values.yaml"] = (override.replace("replicaCount:", "replicas:")
                                                       if name in REPLICAS_KEY else override)
        infra_files[f"products/{name}/Chart.yaml"] = f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
        infra_files[f"products/{name}/values.yaml"] = values
        schema = chart / "values.schema.json"
        if schema.exists():
            files[f"products/{name}/values.schema.json"] = schema.read_bytes()
            infra_files[f"products/{name}/values.schema.json"] = schema.read_bytes()
    write_tree(configs, files)
    write_tree(infra, infra_files)
    return configs, infra


def copy_data(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


HELM_SECRETS = REALWORLD / "helm-secrets"
FLUX_SOPS = REALWORLD / "flux-sops"
ENV_FILES = REALWORLD / "env"

# helm-secrets' own test files laid out as a customer's: the .sops.yaml is its catch-all PGP rule.
HELM_SECRETS_LAYOUT = {
    ".sops.yaml": "sops/.sops.yaml",
    "customers/acme/web/secrets.yaml": "sops/secrets.yaml",            # PGP, as the rule says
    "customers/acme/web/values.yaml": "sops/values.yaml",
    "customers/acme/web/some-secrets.yaml": "sops/some-secrets.yaml",  # PGP
    "customers/acme/api/secrets.yaml": "sops/secrets.age.yaml",        # age only: not the rule's PGP key
    "customers/acme/api/values.yaml": "examples-sops/values.yaml",
    "customers/acme/files/file.yaml": "sops/files/file.yaml",
    "customers/acme/files/file.json": "sops/files/file.json",
    "customers/acme/vals/values.yaml": "vals/secrets.yaml",            # vals references only
}


def build_secrets_repo(root: Path) -> Path:
    """helm-secrets' SOPS files and real .env examples in one customer-configs."""
    configs = root / "customer-configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: []\n",
    })
    for dest, src in HELM_SECRETS_LAYOUT.items():
        copy_data(HELM_SECRETS / src, configs / dest)
    for env in sorted(ENV_FILES.iterdir()):
        copy_data(env, configs / "customers/acme/configs" / env.name)
    return configs


def build_flux_repo(root: Path) -> Path:
    """Flux kustomize-controller's SOPS test data with its own .sops.yaml, paths as in its repository."""
    configs = root / "customer-configs"
    # a products/ folder makes it customer-configs; not YAML, as rule 3 (`\.yaml$`) would require it encrypted
    write_tree(configs, {"products/flux/README.md": "Flux's SOPS test data\n"})
    for src in sorted(FLUX_SOPS.rglob("*")):
        if src.is_file() and src.name != "LICENSE":
            copy_data(src, configs / src.relative_to(FLUX_SOPS))
    return configs
