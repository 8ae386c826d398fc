"""Small real repositories for the attack tests of issue 21 (tests/test_gate_*.py)."""

from __future__ import annotations

from pathlib import Path

from helpers import init_repo, write_tree

# one customer, one product, one environment: every check runs and the tree passes
TINY = {
    ".gitops-checks.yaml": "environments: [dev]\n",
    "products/billing/base-values.yaml": "replicaCount: 1\n",
    "products/billing/values.schema.json": '{"type": "object", "properties": {"replicaCount": {"type": "integer"}}}\n',
    "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
    "customers/acme/products.yaml": "products: [billing]\n",
    "customers/acme/billing/values.yaml": "replicaCount: 2\n",
}


def tiny_configs(tmp: Path, extra: dict[str, str | bytes] | None = None, git: bool = False) -> Path:
    configs = tmp / "customer-configs"
    files: dict[str, str | bytes] = {**TINY, **(extra or {})}
    if git:
        init_repo(configs, files)
    else:
        write_tree(configs, files)
    return configs
