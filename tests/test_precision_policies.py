"""The starter policies on real chart shapes (issue 17, item 5), and schema findings once when the
product's schema and the chart's are the same file (item 6). Charts: Bitnami postgresql/redis/nginx,
Traefik, cert-manager, prometheus-community (tests/data/charts, tests/data/realworld/SOURCES.tsv),
each as a product with a customer's production values written in that chart's own shape."""

from __future__ import annotations

from pathlib import Path

from helpers import findings_of, run_json, write_tree
from realworld import PROD_OVERRIDES, build_charts_pair


def _policy(tmp: Path, configs: Path, infra: Path) -> list[tuple[str, int, str]]:
    _, report, proc = run_json("--configs", configs, "--infra", infra, "--check", "policy", tmp=tmp)
    assert "Traceback" not in proc.stderr
    assert not findings_of(report, "policy/engine"), report
    return sorted((f["path"], f["line"], f["message"].split(" [")[0]) for f in findings_of(report, "policy/rego"))


def test_starter_pack_gives_no_false_finding_on_real_chart_shapes(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path)
    # before issue 17: 31 findings, e.g. "production must set resources.requests.cpu" for a customer
    # who set primary.resources, and "1 replica" for Traefik's deployment.replicas: 2
    assert _policy(tmp_path, configs, infra) == []


def test_nested_workloads_are_checked_where_the_customer_sets_them(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["postgresql", "traefik"])
    pg = configs / "customers/acme/postgresql/values.yaml"
    pg.write_text(PROD_OVERRIDES["postgresql"].replace("    limits: {memory: 2Gi}\n", "")
                  .replace("  replicaCount: 2\n", "  replicaCount: 1\n"))
    traefik = configs / "customers/acme/traefik/values.yaml"
    traefik.write_text(PROD_OVERRIDES["traefik"].replace("replicas: 2", "replicas: 1"))
    pg_lines = pg.read_text().splitlines()
    assert _policy(tmp_path, configs, infra) == sorted([
        # the nearest line that sets the workload's resources, in the customer's file
        ("customers/acme/postgresql/values.yaml", pg_lines.index("  resources:") + 1,
         "production must set primary.resources.limits.memory"),
        ("customers/acme/postgresql/values.yaml", pg_lines.index("  replicaCount: 1") + 1,
         "production runs 1 replica(s) (readReplicas.replicaCount); at least 2 are needed (or autoscaling with "
         "minReplicas >= 2)"),
        ("customers/acme/traefik/values.yaml", 2,
         "production runs 1 replica(s) (deployment.replicas); at least 2 are needed (or autoscaling with "
         "minReplicas >= 2)"),
    ])


def test_standalone_bitnami_charts_have_no_replica_sets(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["postgresql"])
    pg = configs / "customers/acme/postgresql/values.yaml"
    # the chart's default architecture: readReplicas (replicaCount: 1 by default) do not run
    pg.write_text(PROD_OVERRIDES["postgresql"].replace("architecture: replication\n", "")
                  .split("readReplicas:")[0])
    assert _policy(tmp_path, configs, infra) == []


def test_a_product_declares_its_workloads_when_heuristics_cannot_know(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["redis"])
    base = configs / "products/redis/base-values.yaml"
    kubectl = base.read_text().splitlines().index("kubectl:") + 1
    (configs / ".gitops-checks.yaml").write_text("environments: [prod]\n")  # no declared workloads
    got = _policy(tmp_path, configs, infra)
    # Redis' kubectl container (it runs only with sentinel's master service) looks like a workload
    assert {m for _, _, m in got} == {f"production must set kubectl.resources.{r}"
                                      for r in ("limits.memory", "requests.cpu", "requests.memory")}
    assert all(path == "products/redis/base-values.yaml" and line > kubectl for path, line, _ in got)
    (configs / ".gitops-checks.yaml").write_text(
        "environments: [prod]\npolicies:\n  workloads:\n    redis: [master, replica, sentinel, metrics]\n")
    assert _policy(tmp_path, configs, infra) == []


def test_gold_customers_are_asked_to_autoscale_where_the_chart_can(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["redis", "cert-manager"], tier="gold")
    got = _policy(tmp_path, configs, infra)
    # Bitnami redis autoscales its replicas (replica.autoscaling); cert-manager has no autoscaling map
    assert [(p, m) for p, _, m in got] == [
        ("products/redis/base-values.yaml", "gold-tier customers autoscale in production: set "
                                             "replica.autoscaling.enabled")]
    values = configs / "customers/acme/redis/values.yaml"
    values.write_text(values.read_text() + "  autoscaling:\n    hpa:\n      enabled: true\n      minReplicas: 3\n")
    assert _policy(tmp_path, configs, infra) == []


def test_the_same_schema_in_both_repositories_reports_a_violation_once(tmp_path: Path):
    configs, infra = build_charts_pair(tmp_path, ["postgresql"])
    values = configs / "customers/acme/postgresql/values.yaml"
    values.write_text(values.read_text().replace("auth:\n", 'auth:\n  enablePostgresUser: "yes"\n', 1))
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "schema/values", tmp=tmp_path)
    errors = [f for f in findings_of(report, "schema/values") if f["severity"] == "error"]
    assert [(f["path"], f["line"]) for f in errors] == [("customers/acme/postgresql/values.yaml", 2)], errors
    # a chart schema that differs is still applied, and named
    write_tree(infra, {"products/postgresql/values.schema.json":
                       '{"type": "object", "properties": {"auth": {"properties": {'
                       '"enablePostgresUser": {"type": "boolean"}}}}}'})
    _, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "schema/values", tmp=tmp_path)
    errors = [f for f in findings_of(report, "schema/values") if f["severity"] == "error"]
    assert len(errors) == 2 and sum("[chart schema" in f["message"] for f in errors) == 1, errors
