"""Pull requests to platform-infrastructure, and pairs of pull requests across both repositories:
real git repositories (both), branches and merge bases, the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import commit_all, examples_in_git, findings_of, git, run_cli, run_json, write_tree

ANALYTICS_CHART = "products/analytics/values.yaml"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Both example repositories as git repositories on `main`, each with a merged first commit."""
    return examples_in_git(tmp_path)


def branch(repo: Path, name: str, files: dict[str, str], message: str = "change") -> str:
    git(repo, "checkout", "-q", "-b", name)
    write_tree(repo, files)
    return commit_all(repo, message)


def edit(repo: Path, rel: str, old: str, new: str) -> str:
    text = (repo / rel).read_text()
    assert old in text, (rel, old)
    return text.replace(old, new, 1)


MAX_REPLICAS_POLICY = """package main

import rego.v1

deny contains result if {
	input.values.autoscaling.maxReplicas > 10
	result := {"msg": sprintf("autoscaling.maxReplicas %v is over the platform's limit of 10",
		[input.values.autoscaling.maxReplicas]), "path": ["autoscaling", "maxReplicas"]}
}
"""


def test_chart_default_change_is_checked_by_policy_and_schema(pair, tmp_path: Path):
    configs, infra = pair
    write_tree(configs, {".gitops-checks.yaml": "policies:\n  paths: [policy]\n",
                         "policy/replicas.rego": MAX_REPLICAS_POLICY})
    commit_all(configs, "team policy")
    # main moves on after the branch: the merge base, not main's tip, is the base
    branch(infra, "pr", {ANALYTICS_CHART: edit(infra, ANALYTICS_CHART,
                                                "  maxReplicas: 3\n  targetCPUUtilizationPercentage: 80",
                                                "  maxReplicas: 50\n  targetCPUUtilizationPercentage: 150")})
    git(infra, "checkout", "-q", "main")
    write_tree(infra, {"README.md": "# moved on\n"})
    commit_all(infra, "main moves")
    git(infra, "checkout", "-q", "pr")
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main",
                                  "--explain-scope", tmp=tmp_path)
    assert code == 1, proc.stderr
    assert "chart of product analytics, every unit of it" in proc.stderr
    schema = findings_of(report, "schema/values")
    policy = findings_of(report, "policy/rego")
    assert schema and policy
    for f in schema + policy:
        assert (f["repo"], f["path"]) == ("platform-infrastructure", ANALYTICS_CHART)
        assert f["line"] is not None
    assert any("maxReplicas 50 is over" in f["message"] for f in policy)
    assert any("150" in f["message"] for f in schema)
    assert report["summary"]["units"] == 54  # every analytics unit, nothing else
    # the same with both revisions given, and --infra-head instead of the working tree
    git(infra, "checkout", "-q", "main")
    code2, report2, _ = run_json("--configs", configs, "--infra", infra, "--infra-base", "main",
                                 "--infra-head", "pr", tmp=tmp_path)
    assert code2 == 1 and report2["summary"]["units"] == 54
    # the diff: chart-default changes per unit, sourced at the chart's file and line
    out = tmp_path / "diff.json"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--infra-base", "main", "--infra-head", "pr",
                   "--report", f"json={out}", "--report", "text")
    assert proc.returncode == 0, proc.stderr
    diff = json.loads(out.read_text())
    assert diff["summary"]["units_changed"] > 0
    changes = [c for u in diff["units"] for c in u["changes"]]
    hits = [c for c in changes if c["path"] == ["autoscaling", "maxReplicas"]]
    assert hits and hits[0]["source"] == {"repo": "platform-infrastructure", "path": ANALYTICS_CHART, "line": 24}
    assert (hits[0]["before"], hits[0]["after"]) == (3, 50)
    assert {u["product"] for u in diff["units"]} == {"analytics"}
    assert diff["summary"]["changed_files"] == {f"platform-infrastructure/{ANALYTICS_CHART}":
                                                diff["summary"]["units_changed"]}
    assert "autoscaling.maxReplicas: 3 -> 50" in proc.stdout


def test_chart_schema_tightened_some_customers_now_fail(pair, tmp_path: Path):
    configs, infra = pair
    schema = json.loads((configs / "products/billing/values.schema.json").read_text())
    schema["properties"]["replicaCount"] = {"type": "integer", "maximum": 2}
    branch(infra, "tighten", {"products/billing/values.schema.json": json.dumps(schema, indent=2)})
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main", tmp=tmp_path)
    assert code == 1, proc.stderr
    found = findings_of(report, "schema/values")
    assert found and all("chart schema platform-infrastructure/products/billing/values.schema.json" in f["message"]
                         for f in found)
    out = tmp_path / "diff.json"
    run_cli("diff", "--configs", configs, "--infra", infra, "--infra-base", "main", "--report", f"json={out}")
    (entry,) = json.loads(out.read_text())["schemas"]
    assert entry["product"] == "billing"
    assert entry["schemas"] == ["platform-infrastructure/products/billing/values.schema.json"]
    failing = [f["unit"] for f in entry["now_failing"]]
    assert failing and all(u.endswith("/prod") for u in failing)  # prod runs 3 replicas
    assert entry["now_passing"] == [] and entry["units_compared"] > len(failing)
    # and loosening it back is the reverse
    git(infra, "checkout", "-q", "main")
    git(infra, "checkout", "-q", "-b", "loosen", "tighten")
    (infra / "products/billing/values.schema.json").unlink()
    commit_all(infra, "loosen")
    run_cli("diff", "--configs", configs, "--infra", infra, "--infra-base", "tighten", "--report", f"json={out}")
    (entry,) = json.loads(out.read_text())["schemas"]
    assert sorted(entry["now_passing"]) == sorted(failing) and entry["now_failing"] == []


APPSET = "applicationsets/02-multi-environment.yaml"


def test_applicationset_change_adds_removes_and_changes_applications(pair, tmp_path: Path):
    configs, infra = pair
    text = (infra / APPSET).read_text()
    text = text.replace("                - env: dev\n                  cluster: https://dev.k8s.example.com\n",
                        "                - env: qa\n                  cluster: https://qa.k8s.example.com\n")
    text = text.replace("      syncPolicy:\n        syncOptions:",
                        "      syncPolicy:\n        automated:\n          prune: true\n          selfHeal: true\n"
                        "        syncOptions:")
    branch(infra, "appset", {APPSET: text})
    out = tmp_path / "diff.json"
    md = tmp_path / "diff.md"
    page = tmp_path / "diff.html"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--infra-base", "main", "--report",
                   f"json={out}", "--report", f"markdown={md}", "--report", f"html={page}", "--report", "text")
    assert proc.returncode == 0, proc.stderr
    apps = json.loads(out.read_text())["applications"]
    added = {a["name"] for a in apps["added"]}
    removed = {a["name"] for a in apps["removed"]}
    assert "acme-corp-billing-qa" in added and "acme-corp-billing-dev" in removed
    assert all(a["highlight"].startswith("removed") for a in apps["removed"])
    changed = {a["name"]: a for a in apps["changed"]}
    prod = changed["acme-corp-billing-prod"]
    fields = {c["field"]: (c["before"], c["after"]) for c in prod["changes"]}
    assert fields["syncPolicy.automated"] == (False, True)
    assert fields["syncPolicy.automated.prune"] == (None, True)
    assert fields["syncPolicy.automated.selfHeal"] == (None, True)
    assert "production" in prod["highlight"]
    assert "highlight" not in changed["acme-corp-billing-staging"]
    assert "acme-corp-billing-prod" in proc.stdout and "automated sync turned on" in proc.stdout
    assert "acme-corp-billing-dev" in md.read_text() and "**application changed (automated sync" in md.read_text()
    assert "acme-corp-billing-qa" in page.read_text() and "automated sync turned on" in page.read_text()
    # the run checks the Applications' customers and says why
    _, report, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main",
                               "--explain-scope", tmp=tmp_path)
    assert "ApplicationSet, every Application it generates" in proc.stderr
    assert "Application acme-corp-billing-qa added: customer acme-corp" in proc.stderr
    assert report["summary"]["units"] > 0


def test_documentation_only_and_no_changes(pair, tmp_path: Path):
    configs, infra = pair
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--base", "main", "--infra-base", "main",
                                  tmp=tmp_path)
    assert code == 0 and report["summary"]["units"] == 0
    assert report["summary"]["note"] == "no changes in either repository"
    assert "no changes in either repository" in run_cli("--configs", configs, "--infra", infra, "--infra-base",
                                                        "main").stdout
    branch(infra, "docs", {"products/search/README.md": "# search chart\n", "README.md": "# more\n"})
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main",
                                  "--explain-scope", tmp=tmp_path)
    assert code == 0 and report["summary"]["units"] == 0 and report["summary"]["files"] == 0
    assert report["summary"]["note"] == "documentation only: nothing to check"
    assert "scope: documentation only" in proc.stderr


def test_paired_branches_for_a_new_product(pair, tmp_path: Path):
    configs, infra = pair
    chart = {f"products/reports/{k}": (infra / f"products/search/{k}").read_text().replace("search", "reports")
             for k in ("Chart.yaml", "values.yaml", "templates/deployment.yaml", "templates/_helpers.tpl")}
    branch(infra, "feature/reports", chart, "reports chart")
    git(infra, "checkout", "-q", "main")
    products = (configs / "customers/acme-corp/products.yaml").read_text() + "- name: reports\n"
    # the product's defaults and one customer's values, as the seed's "Deploy New Product" does
    copied = {str(p.relative_to(configs)).replace("search", "reports"): p.read_text().replace("search", "reports")
              for folder in ("products/search", "customers/acme-corp/search") for p in (configs / folder).rglob("*")
              if p.is_file()}
    branch(configs, "feature/reports", {**copied, "customers/acme-corp/products.yaml": products})
    # paired: the infra branch with the same name is the other head
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--base", "main",
                                  "--infra-base", "main", "--infra-head", "feature/reports",
                                  "--pairing", "paired: platform-infrastructure feature/reports", tmp=tmp_path)
    assert code == 0, proc.stdout
    assert report["pairing"] == "paired: platform-infrastructure feature/reports"
    assert report["summary"]["units"] >= 3
    # unpaired: platform-infrastructure at its default branch
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--base", "main",
                                  "--pairing", "unpaired: platform-infrastructure main", tmp=tmp_path)
    assert code == 1
    (f,) = findings_of(report, "consistency/product-pairing")
    assert f["path"] == "products/reports/base-values.yaml" and "no chart" in f["message"]
    assert "pairing: unpaired: platform-infrastructure main" in proc.stdout


def test_findings_outside_the_change_do_not_fail_the_pr(pair, tmp_path: Path):
    configs, infra = pair
    # old problems on main, in both repositories
    write_tree(infra, {"base-manifests/network-policy.yaml": "kind: NetworkPolicy\nkind: Again\n"})
    commit_all(infra, "old infra finding")
    write_tree(configs, {"customers/globex/configs/flags.yaml": "a: 1\na: 2\n"})
    commit_all(configs, "old configs finding")
    # a customer-configs PR touching another customer
    rel = "customers/acme-corp/billing/values.yaml"
    branch(configs, "pr", {rel: (configs / rel).read_text() + "\nextraFlag: true\n"})
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--base", "main", tmp=tmp_path)
    assert code == 0, proc.stdout
    assert report["findings"] == []
    outside = {(f["repo"], f["path"]) for f in report["outside_change"]}
    assert ("platform-infrastructure", "base-manifests/network-policy.yaml") in outside
    assert report["summary"]["outside_change"] == len(report["outside_change"]) >= 1
    assert "outside this change, see a full run" in run_cli("--configs", configs, "--infra", infra,
                                                            "--base", "main").stdout
    # the same finding fails the PR that causes it
    write_tree(configs, {rel: (configs / rel).read_text() + "extraFlag: false\n"})
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--base", "main", tmp=tmp_path)
    assert code == 1 and [f["path"] for f in findings_of(report, "yaml/duplicate-key")] == [rel]
    # an infra PR does not fail on the customer's old finding either
    git(configs, "checkout", "-q", ".")
    git(configs, "checkout", "-q", "main")
    branch(infra, "chart", {ANALYTICS_CHART: edit(infra, ANALYTICS_CHART, "replicaCount: 1", "replicaCount: 2")})
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main", tmp=tmp_path)
    assert code == 0, proc.stdout  # globex's file is not the chart's to fix (nor read: its customer is not affected)
    assert ("platform-infrastructure", "base-manifests/network-policy.yaml") in {
        (f["repo"], f["path"]) for f in report["outside_change"]}
    # a full run still fails on both
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1 and "outside_change" not in report


def test_unknown_infra_revision_and_not_a_repository(pair, tmp_path: Path):
    configs, infra = pair
    proc = run_cli("--configs", configs, "--infra", infra, "--infra-base", "nope")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "nope" in proc.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = run_cli("diff", "--configs", configs, "--infra", plain, "--infra-base", "main")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("--configs", configs, "--infra-base", "main")
    assert proc.returncode == 2 and "--infra" in proc.stderr
    for cmd in (("apps",), ("values", "acme-corp", "billing", "prod")):
        proc = run_cli(*cmd, "--configs", configs, "--infra", infra, "--infra-rev", "nope")
        assert proc.returncode == 2 and "nope" in proc.stderr


def test_apps_and_values_read_platform_infrastructure_at_a_revision(pair):
    configs, infra = pair
    branch(infra, "chart", {ANALYTICS_CHART: edit(infra, ANALYTICS_CHART, "  className: nginx",
                                                  "  className: traefik")})
    git(infra, "checkout", "-q", "main")
    now = run_cli("values", "acme-corp", "analytics", "prod", "--configs", configs, "--infra", infra,
                  "--format", "json")
    then = run_cli("values", "acme-corp", "analytics", "prod", "--configs", configs, "--infra", infra,
                   "--infra-rev", "chart", "--format", "json")
    assert json.loads(now.stdout)["ingress"]["className"] == "nginx"
    assert json.loads(then.stdout)["ingress"]["className"] == "traefik"
    apps = run_cli("apps", "--configs", configs, "--infra", infra, "--infra-rev", "chart", "--format", "json")
    assert apps.returncode == 0 and json.loads(apps.stdout)["applications"]


def test_customer_pr_diff_compares_applications_like_with_like(pair, tmp_path: Path):
    configs, infra = pair
    rel = "customers/acme-corp/billing/values.yaml"
    branch(configs, "one-line", {rel: (configs / rel).read_text() + "\nextraFlag: true\n"})
    out = tmp_path / "diff.json"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", f"json={out}")
    assert proc.returncode == 0, proc.stderr
    diff = json.loads(out.read_text())
    assert diff["applications"] == {"added": [], "removed": [], "changed": []}
    # removing a customer's subscription file removes that customer's Applications, and only those
    (configs / rel).unlink()
    commit_all(configs, "drop billing values")
    run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--report", f"json={out}")
    removed = json.loads(out.read_text())["applications"]["removed"]
    assert removed and all(a["name"].startswith("acme-corp-billing") for a in removed)


def test_infra_pr_in_shards_merges_into_the_whole_verdict(pair, tmp_path: Path):
    configs, infra = pair
    write_tree(infra, {"base-manifests/network-policy.yaml": "kind: NetworkPolicy\nkind: Again\n"})
    commit_all(infra, "old infra finding")
    schema = json.loads((configs / "products/billing/values.schema.json").read_text())
    schema["properties"]["replicaCount"] = {"type": "integer", "maximum": 2}
    branch(infra, "tighten", {"products/billing/values.schema.json": json.dumps(schema, indent=2)})
    whole = tmp_path / "whole.json"
    common = ("--configs", configs, "--infra", infra, "--infra-base", "main")
    assert run_cli(*common, "--report", f"json={whole}").returncode == 1
    parts = [tmp_path / f"s{k}.json" for k in (1, 2)]
    for k, part in enumerate(parts, start=1):
        run_cli(*common, "--shard", f"{k}/2", "--report", f"json={part}")
    merged = tmp_path / "merged.json"
    assert run_cli("merge-reports", *parts, "--report", f"json={merged}").returncode == 1
    key = lambda r: sorted((f["check"], f["path"], f["line"], f["message"]) for f in r)  # noqa: E731
    got, want = json.loads(merged.read_text()), json.loads(whole.read_text())
    assert key(got["findings"]) == key(want["findings"]) and want["findings"]
    assert key(got["outside_change"]) == key(want["outside_change"]) and want["outside_change"]
