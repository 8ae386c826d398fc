"""appset/crd and appset/prod-auto-sync on real repositories, and the seed's Pattern 2 in its legacy
(fasttemplate) form: every Application generated, the unknown `{{tier}}` left verbatim as ArgoCD
leaves it -- and then rejected by the API server as a label value -- and production auto-sync found.
The CRD schemas are ArgoCD's (tests/data/argocd-crds, SOURCES.tsv there)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from helpers import DATA, findings_of, run_cli, run_json, write_tree

from checks.engines.k8s_crd import crd_schema, packaged_schema

CONFIGS_URL = "http://localhost:7990/scm/test/customer-configs.git"
INFRA_URL = "http://localhost:7990/scm/test/platform-infrastructure.git"
CUSTOMERS = ("acme", "globex")
PRODUCTS = ("billing", "search")
ENVS = ("dev", "staging", "prod")


def repos(tmp: Path, appset: str) -> tuple[Path, Path]:
    configs, infra = tmp / "customer-configs", tmp / "platform-infrastructure"
    files: dict[str, str] = {}
    for p in PRODUCTS:
        files[f"products/{p}/base-values.yaml"] = "replicaCount: 1\n"
        for e in ENVS:
            files[f"products/{p}/environments/{e}.yaml"] = f"replicaCount: {2 if e == 'prod' else 1}\n"
    for c in CUSTOMERS:
        files[f"customers/{c}/metadata.yaml"] = f"id: {c}\nname: {c.title()}\n"
        files[f"customers/{c}/products.yaml"] = "products:\n" + "".join(f"  - name: {p}\n" for p in PRODUCTS)
        for p in PRODUCTS:
            files[f"customers/{c}/{p}/values.yaml"] = "replicaCount: 2\n"
    write_tree(configs, files)
    infra_files = {"applicationsets/set.yaml": appset}
    for p in PRODUCTS:
        infra_files[f"products/{p}/Chart.yaml"] = f"apiVersion: v2\nname: {p}\nversion: 0.1.0\n"
        infra_files[f"products/{p}/values.yaml"] = "replicaCount: 1\n"
    write_tree(infra, infra_files)
    return configs, infra


# The seed's Pattern 2 (ARCHITECTURE.md, "Multi-Environment": a matrix of customers x environments),
# written with legacy {{...}} templates and one label no generator provides.
PATTERN_2_LEGACY = f"""
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: multi-environment
  namespace: argocd
spec:
  generators:
    - matrix:
        generators:
          - git:
              repoURL: {CONFIGS_URL}
              revision: main
              files:
                - path: "customers/*/*/values.yaml"
          - list:
              elements:
                - env: dev
                - env: staging
                - env: prod
  template:
    metadata:
      name: '{{{{path[1]}}}}-{{{{path[2]}}}}-{{{{env}}}}'
      labels:
        tier: '{{{{tier}}}}'
    spec:
      project: default
      sources:
        - repoURL: {INFRA_URL}
          targetRevision: main
          path: 'products/{{{{path[2]}}}}'
          helm:
            valueFiles:
              - '$values/products/{{{{path[2]}}}}/base-values.yaml'
              - '$values/products/{{{{path[2]}}}}/environments/{{{{env}}}}.yaml'
              - '$values/{{{{path}}}}/values.yaml'
        - repoURL: {CONFIGS_URL}
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{{{path[1]}}}}'
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
"""


def test_seed_pattern_2_legacy_generates_every_application_and_the_checks_fire(tmp_path: Path):
    configs, infra = repos(tmp_path, PATTERN_2_LEGACY)
    proc = run_cli("apps", "--configs", configs, "--infra", infra, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    names = sorted(a["name"] for a in listing["applications"])
    assert names == sorted(f"{c}-{p}-{e}" for c in CUSTOMERS for p in PRODUCTS for e in ENVS)
    assert listing["incomplete"] == []
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset", tmp=tmp_path)
    assert code == 1
    assert not [f for f in findings_of(report, "appset/template") if f["severity"] == "error"]
    crd = findings_of(report, "appset/crd")
    # ArgoCD leaves {{tier}} verbatim; the API server refuses it as a label value, for all 12
    assert any("label tier" in f["message"] and "12 applications" in f["message"] for f in crd), crd
    assert all(f["path"] == "applicationsets/set.yaml" and f["line"] for f in crd)
    prod = findings_of(report, "appset/prod-auto-sync")
    assert len(prod) == 1 and "4 applications" in prod[0]["message"]
    assert "acme-billing-prod" in prod[0]["message"] and "-dev" not in prod[0]["message"]
    assert prod[0]["line"] == PATTERN_2_LEGACY.splitlines().index("        automated:") + 1


GO_SET = f"""
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: go-set
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements:
          - {{customer: acme, product: billing, env: prod, autoSync: "false"}}
          - {{customer: acme, product: billing, env: dev, autoSync: "true"}}
  template:
    metadata:
      name: '{{{{ .customer }}}}-{{{{ .product }}}}-{{{{ .env }}}}'
    spec:
      project: default
      source:
        repoURL: {INFRA_URL}
        targetRevision: main
        path: 'products/{{{{ .product }}}}'
      plugin:
        name: misplaced
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{{{ .customer }}}}'
      syncPolicy:
        automated:
          prune: '{{{{ .autoSync }}}}'
"""


def test_crd_rejects_string_booleans_and_unknown_fields(tmp_path: Path):
    configs, infra = repos(tmp_path, GO_SET)
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset/crd", tmp=tmp_path)
    assert code == 1
    messages = [f["message"] for f in findings_of(report, "appset/crd")]
    # the ApplicationSet CRD already types the template: prune is a boolean, plugin is not a spec field
    assert any("ApplicationSet CRD" in m and "prune" in m for m in messages), messages
    assert any("ApplicationSet CRD" in m and "plugin" in m for m in messages), messages
    # and each generated Application against the Application CRD
    assert any(m.startswith("Application CRD") and "prune" in m and "2 applications" in m for m in messages)
    assert any(m.startswith("Application CRD") and "plugin" in m for m in messages)
    lines = {f["line"] for f in findings_of(report, "appset/crd") if "prune" in f["message"]}
    assert lines == {GO_SET.splitlines().index("          prune: '{{ .autoSync }}'") + 1}


def test_prod_auto_sync_is_configurable_and_respects_enabled_false(tmp_path: Path):
    text = PATTERN_2_LEGACY.replace("          selfHeal: true\n",
                                    "          selfHeal: true\n          enabled: false\n")
    configs, infra = repos(tmp_path, text)
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset/prod-auto-sync",
                               tmp=tmp_path)
    assert findings_of(report, "appset/prod-auto-sync") == []
    write_tree(configs, {".gitops-checks.yaml": "checks:\n  options:\n    appset/prod-auto-sync:\n"
                                                "      environments: [staging]\n"})
    write_tree(infra, {"applicationsets/set.yaml": PATTERN_2_LEGACY})
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset/prod-auto-sync",
                               tmp=tmp_path)
    found = findings_of(report, "appset/prod-auto-sync")
    assert len(found) == 1 and "-staging" in found[0]["message"] and "-prod" not in found[0]["message"]


def test_packaged_schemas_are_argocds_crds():
    # checks/schemas/argocd/*.schema.json are tools/argocd_crd_schemas.py's output for tests/data/argocd-crds
    for kind in ("application", "applicationset"):
        crd = yaml.safe_load((DATA / "argocd-crds" / f"{kind}-crd.yaml").read_text())
        assert packaged_schema(kind) == json.loads(json.dumps(crd_schema(crd)))
