"""What ArgoCD deploys is what is validated: appset/deployed-values checks each generated
Application's own value files in its own order; appset/coverage says where the Applications and
products.yaml disagree. Real repositories in temporary folders, the CLI as CI runs it."""

from __future__ import annotations

from pathlib import Path

from helpers import findings_of, run_json, write_tree

CONFIGS_URL = "http://localhost:7990/scm/test/customer-configs.git"
INFRA_URL = "http://localhost:7990/scm/test/platform-infrastructure.git"
SCHEMA = '{"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 1}}}'


def appset(value_files: list[str], name: str = "two-layers") -> str:
    files = "".join(f"              - '{f}'\n" for f in value_files)
    return f"""apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: {name}
  namespace: argocd
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: {CONFIGS_URL}
        revision: main
        files:
          - path: "customers/*/*/values.yaml"
  template:
    metadata:
      name: '{{{{ index .path.segments 1 }}}}-{{{{ index .path.segments 2 }}}}'
    spec:
      project: default
      sources:
        - repoURL: {INFRA_URL}
          targetRevision: main
          path: 'products/{{{{ index .path.segments 2 }}}}'
          helm:
            valueFiles:
{files}        - repoURL: {CONFIGS_URL}
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{{{ index .path.segments 1 }}}}'
"""


def repos(tmp: Path, appset_text: str, products_yaml: str = "products:\n  - name: billing\n") -> tuple[Path, Path]:
    configs, infra = tmp / "customer-configs", tmp / "platform-infrastructure"
    write_tree(configs, {
        "products/billing/base-values.yaml": "replicaCount: 0\nimage: {tag: '1.0'}\n",
        "products/billing/values.schema.json": SCHEMA,
        "products/billing/environments/prod.yaml": "replicaCount: 3\n",
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": products_yaml,
        "customers/acme/billing/values.yaml": "replicaCount: 2\n",
    })
    write_tree(infra, {"applicationsets/set.yaml": appset_text,
                       "products/billing/Chart.yaml": "apiVersion: v2\nname: billing\nversion: 0.1.0\n",
                       "products/billing/values.yaml": "replicaCount: 1\n"})
    return configs, infra


def test_values_in_the_applications_order_are_validated(tmp_path: Path):
    # customer values first, base last: in Helm the base's replicaCount: 0 wins -- what is deployed
    configs, infra = repos(tmp_path, appset(["$values/{{ .path.path }}/values.yaml",
                                             "$values/products/{{ index .path.segments 2 }}/base-values.yaml"]))
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    # the four-layer units (base, then customer) are valid: schema/values finds nothing
    assert findings_of(report, "schema/values") == []
    deployed = findings_of(report, "appset/deployed-values")
    assert code == 1 and len(deployed) == 1
    f = deployed[0]
    assert (f["path"], f["line"]) == ("products/billing/base-values.yaml", 1)
    assert "acme-billing" in f["message"] and "two-layers" in f["message"]
    # and the order itself is reported
    assert findings_of(report, "appset/value-order")


def test_applications_with_the_four_layer_files_are_left_to_schema_values(tmp_path: Path):
    files = ["$values/products/{{ index .path.segments 2 }}/base-values.yaml",
             "$values/{{ .path.path }}/values.yaml"]
    configs, infra = repos(tmp_path, appset(files))
    _, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    # base then customer: replicaCount 2, valid as deployed (no environment: not a four-layer unit, still checked)
    assert findings_of(report, "appset/deployed-values") == []


def test_coverage_disagreements(tmp_path: Path):
    files = ["$values/products/{{ index .path.segments 2 }}/base-values.yaml", "$values/{{ .path.path }}/values.yaml"]
    configs, infra = repos(tmp_path, appset(files), products_yaml="products:\n  - name: billing\n    enabled: false\n")
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset/coverage", tmp=tmp_path)
    found = findings_of(report, "appset/coverage")
    assert len(found) == 1 and "disabled" in found[0]["message"] and "acme-billing" in found[0]["message"]
    assert found[0]["severity"] == "warning"
    # a subscription nothing deploys: the ApplicationSet reads another file name
    configs2, infra2 = repos(tmp_path / "b", appset(files).replace("*/*/values.yaml", "*/*/app.yaml"))
    _, report, _ = run_json("--configs", configs2, "--infra", infra2, "--check", "appset/coverage", tmp=tmp_path)
    messages = [f["message"] for f in findings_of(report, "appset/coverage")]
    assert any("acme/billing/prod is subscribed" in m and "no ApplicationSet deploys it" in m for m in messages)
