"""Regenerate checks/schemas/argocd/*.schema.json from ArgoCD's CRDs (manifests/crds in
argoproj/argo-cd; copies with their source in tests/data/argocd-crds/SOURCES.tsv):

    python tools/argocd_crd_schemas.py tests/data/argocd-crds
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from checks.engines.k8s_crd import crd_schema

OUT = Path(__file__).resolve().parent.parent / "checks" / "schemas" / "argocd"


def main(folder: str) -> int:
    for kind in ("application", "applicationset"):
        crd = yaml.safe_load((Path(folder) / f"{kind}-crd.yaml").read_text())
        (OUT / f"{kind}.schema.json").write_text(json.dumps(crd_schema(crd), sort_keys=True, separators=(",", ":"))
                                                 + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/argocd-crds"))
