"""The command line end to end: examples, broken copies, exit codes, reports, suppressions, plugins."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from harness import run_cli_here
from helpers import EXAMPLES, commit_all, copy_examples, findings_of, init_repo, run_cli, run_json, write_tree

CONFIGS = EXAMPLES / "customer-configs"
INFRA = EXAMPLES / "platform-infrastructure"

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))


def test_examples_are_clean(tmp_path: Path):
    code, report, proc = run_json("--configs", CONFIGS, "--infra", INFRA, tmp=tmp_path)
    assert code == 0, proc.stdout + proc.stderr
    assert report["version"] == 1
    assert report["findings"] == []
    assert report["summary"]["units"] > 200 and report["summary"]["files"] > 300
    assert "passed: 0 errors" in proc.stdout


def test_broken_copy_reports_each_fault_at_its_file_and_line(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    (configs / "customers/acme-corp/billing/values.yaml").write_text("ingress:\n  enabled: true\n  hosts: [a, b\n")
    (configs / "products/search/base-values.yaml").write_text("replicaCount: 1\nimage:\n  tag: a\n  tag: b\n")
    (configs / "customers/globex/environments.yaml").write_text("x: 1\n")
    prod = next(configs.glob("customers/globex/*/environments/prod.yaml"))
    prod.write_text(BOMB)
    started = time.perf_counter()
    code, report, proc = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert time.perf_counter() - started < 30
    assert code == 1
    assert "Traceback" not in proc.stderr
    where = {(f["check"], f["path"], f["line"]) for f in report["findings"]}
    assert ("yaml/syntax", "customers/acme-corp/billing/values.yaml", 4) in where
    assert ("yaml/duplicate-key", "products/search/base-values.yaml", 4) in where
    bomb = findings_of(report, "yaml/limits")
    assert [(f["path"], f["severity"]) for f in bomb] == [(prod.relative_to(configs).as_posix(), "error")]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    # ArgoCD fails the generation of the two ApplicationSets whose git files generator reads the
    # broken values.yaml (and changes none of their Applications): an error about each
    appsets = [f for f in errors if f["check"] == "appset/template"]
    assert sorted(f["path"] for f in appsets) == ["applicationsets/01-product-customer-matrix.yaml",
                                                 "applicationsets/02-multi-environment.yaml"]
    assert all("customers/acme-corp/billing/values.yaml" in f["message"] for f in appsets)
    assert report["summary"]["errors"] == len(errors) == 5
    # the ApplicationSet emulation says what it could not read (notices), it does not guess
    assert all(f["check"] == "appset/template" for f in report["findings"] if f["severity"] != "error")
    # the console shows them too, grouped by file with line:column
    proc = run_cli("--configs", configs, "--infra", infra)
    assert "customer-configs/products/search/base-values.yaml" in proc.stdout
    assert "4:3" in proc.stdout and "[yaml/duplicate-key]" in proc.stdout
    assert "FAILED: 5 errors" in proc.stdout


def test_top_level_list_where_a_map_is_required(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    (configs / "customers/acme-corp/metadata.yaml").write_text("- id: acme-corp\n")
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1
    assert [(f["path"], f["line"]) for f in findings_of(report, "yaml/not-a-mapping")] == [
        ("customers/acme-corp/metadata.yaml", 1)]


def test_unsafe_names_are_refused(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    shutil.copytree(configs / "customers/globex", configs / "customers/Evil Corp")
    products = configs / "customers/initech/products.yaml"
    products.write_text("products:\n  - name: billing\n  - name: ../../etc\n")
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1
    names = findings_of(report, "consistency/names")
    assert {(f["path"], f["line"]) for f in names} == {
        ("customers/Evil Corp", None), ("customers/initech/products.yaml", 3)}


@pytest.mark.parametrize("args, message", [
    (["--configs", "/nonexistent/dir"], "no such directory"),
    (["--no-such-option"], "unrecognized arguments"),
    (["--check", "nope/none"], "no check or family named 'nope/none'"),
    (["--report", "xml"], "unknown format 'xml'"),
    (["--fail-on", "sometimes"], "invalid choice"),
])
def test_bad_invocation_exits_2_with_one_clear_line(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_unknown_revision_and_non_repo_with_base_exit_2(tmp_path: Path):
    configs = init_repo(tmp_path / "c", {"customers/a/metadata.yaml": "id: a\n"})
    proc = run_cli("--configs", configs, "--base", "no-such-branch")
    assert proc.returncode == 2 and "unknown revision 'no-such-branch'" in proc.stderr
    plain = tmp_path / "plain"
    shutil.copytree(CONFIGS, plain)
    proc = run_cli("--configs", plain, "--base", "main")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr


def test_invalid_settings_file_exits_2_with_file_and_line(tmp_path: Path):
    configs, _infra = copy_examples(tmp_path)
    (configs / ".gitops-checks.yaml").write_text("helm: '4'\nfail_on: sometimes\n")
    proc = run_cli("--configs", configs)
    assert proc.returncode == 2
    assert ".gitops-checks.yaml:2: invalid setting fail_on" in proc.stderr
    proc = run_cli("--configs", configs, "--config", tmp_path / "missing.yaml")
    assert proc.returncode == 2 and "cannot read settings file" in proc.stderr


FEW = ("acme-corp", "globex")  # example customers enough for what a test asks


def test_settings_env_and_cli_precedence(tmp_path: Path):
    # the command line in this process, over a few example customers: precedence, not scale
    configs, _infra = copy_examples(tmp_path, FEW)
    (configs / "customers/acme-corp/billing/values.yaml").write_text("x: !vault secret\n")
    # unknown tag is a warning: passes by default ...
    assert run_cli_here("--configs", configs).returncode == 0
    # ... fails with fail_on: warning from the settings file ...
    (configs / ".gitops-checks.yaml").write_text("fail_on: warning\n")
    assert run_cli_here("--configs", configs).returncode == 1
    # ... the environment overrides the file, and the command line overrides both.
    assert run_cli_here("--configs", configs, env={"GITOPS_CHECKS_FAIL_ON": "error"}).returncode == 0
    assert run_cli_here("--configs", configs, "--fail-on", "warning",
                   env={"GITOPS_CHECKS_FAIL_ON": "error"}).returncode == 1
    # severity override and disabling by family from the settings file
    (configs / ".gitops-checks.yaml").write_text("checks:\n  severity: {yaml/unknown-tag: error}\n")
    assert run_cli_here("--configs", configs).returncode == 1
    (configs / ".gitops-checks.yaml").write_text("checks:\n  severity: {yaml/unknown-tag: error}\n"
                                                 "  disable: [yaml]\n")
    assert run_cli_here("--configs", configs).returncode == 0


def test_check_and_skip_select_by_id_and_family(tmp_path: Path):
    configs, _infra = copy_examples(tmp_path, FEW)
    (configs / "customers/acme-corp/configs/feature-flags.yaml").write_text("a: 1\na: 2\n")
    assert run_cli_here("--configs", configs, "--skip", "yaml/duplicate-key").returncode == 0
    assert run_cli_here("--configs", configs, "--skip", "yaml").returncode == 0
    assert run_cli_here("--configs", configs, "--check", "yaml").returncode == 1
    assert run_cli_here("--configs", configs, "--check", "consistency").returncode == 0


def test_inline_suppression_needs_a_reason(tmp_path: Path):
    configs, _infra = copy_examples(tmp_path)
    path = configs / "customers/acme-corp/configs/feature-flags.yaml"
    path.write_text("a: 1\na: 2  # gitops-checks: ignore[yaml/duplicate-key] migration, removed in PLAT-12\n")
    code, report, _ = run_json("--configs", configs, tmp=tmp_path)
    assert code == 0 and report["summary"]["suppressed"] == 1
    path.write_text("a: 1\n# gitops-checks: ignore[yaml/duplicate-key]\na: 2\n")
    code, report, _ = run_json("--configs", configs, tmp=tmp_path)
    assert code == 1
    assert findings_of(report, "yaml/duplicate-key")
    assert [(f["line"], f["severity"]) for f in findings_of(report, "internal/suppression")] == [(2, "warning")]


def test_baseline_is_keyed_by_fingerprint_not_line(tmp_path: Path):
    configs, _infra = copy_examples(tmp_path)
    path = configs / "customers/acme-corp/configs/feature-flags.yaml"
    path.write_text("image:\n  tag: a\n  tag: b\n")
    baseline = tmp_path / "baseline.json"
    assert run_cli("--configs", configs, "--write-baseline", baseline).returncode == 0
    assert run_cli("--configs", configs, "--baseline", baseline).returncode == 0
    # the same finding moved down two lines stays hidden
    path.write_text("# moved\n\nimage:\n  tag: a\n  tag: b\n")
    code, report, _ = run_json("--configs", configs, "--baseline", baseline, tmp=tmp_path)
    assert code == 0 and report["summary"]["baselined"] == 1
    # a new finding elsewhere is not hidden
    path.write_text("image:\n  tag: a\n  tag: b\nport: 1\nport: 2\n")
    code, report, _ = run_json("--configs", configs, "--baseline", baseline, tmp=tmp_path)
    assert code == 1 and [f["line"] for f in report["findings"]] == [5]


def test_json_report_contract_fields(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    (configs / "customers/acme-corp/configs/feature-flags.yaml").write_text("a: 1\na: 2\n")
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1
    assert set(report) == {"version", "summary", "findings"}
    assert {"errors", "warnings", "notices", "units", "files"} <= set(report["summary"])
    (f,) = report["findings"]
    assert {"check", "severity", "message", "repo", "path", "line", "column", "customer", "product",
            "environment", "fingerprint"} <= set(f)
    assert (f["repo"], f["path"], f["line"], f["column"]) == (
        "customer-configs", "customers/acme-corp/configs/feature-flags.yaml", 2, 1)


def test_report_to_stdout_and_files(tmp_path: Path):
    proc = run_cli("--configs", CONFIGS, "--report", "json", "--report", f"console={tmp_path / 'c.txt'}")
    assert json.loads(proc.stdout)["version"] == 1
    assert "passed" in (tmp_path / "c.txt").read_text()


def test_runs_from_inside_a_configs_checkout(tmp_path: Path):
    configs = init_repo(tmp_path / "c", {"customers/a/metadata.yaml": "id: a\nid: b\n"})
    proc = run_cli(cwd=configs / "customers")
    assert proc.returncode == 1 and "customers/a/metadata.yaml" in proc.stdout


def test_pr_mode_scopes_to_the_changed_customer(tmp_path: Path):
    configs, _infra = copy_examples(tmp_path)
    init_repo(configs)
    # broken before the PR, in a customer the PR does not touch
    (configs / "customers/globex/metadata.yaml").write_text("id: globex\nid: again\n")
    commit_all(configs, "old breakage")
    base = "HEAD"
    (configs / "customers/acme-corp/configs/feature-flags.yaml").write_text("flags: {}\nflags: {}\n")
    code, report, proc = run_json("--configs", configs, "--base", base, "--explain-scope", tmp=tmp_path)
    assert code == 1
    assert {f["path"] for f in report["findings"]} == {"customers/acme-corp/configs/feature-flags.yaml"}
    assert "customer acme-corp" in proc.stderr
    assert report["summary"]["units"] == 6  # acme-corp: 2 products x 3 environments


def test_list_and_explain():
    proc = run_cli("list")
    assert proc.returncode == 0
    for cid in ("yaml/syntax", "yaml/duplicate-key", "yaml/limits", "consistency/names"):
        assert cid in proc.stdout
    proc = run_cli("explain", "yaml/duplicate-key")
    assert proc.returncode == 0 and "Passes:" in proc.stdout and "Fails:" in proc.stdout
    assert run_cli("explain", "nope/x").returncode == 2


PLUGIN = '''
from checks.core.findings import Severity
from checks.runner.registry import Check


class Boom(Check):
    """Always crashes (test plugin)."""
    id = "policy/boom"

    def run(self, ctx):
        secret = "hunter2-very-secret"
        raise ValueError(f"cannot handle {secret}")


class Hello(Check):
    """Says hello once per customer (test plugin)."""
    id = "policy/hello"
    severity = Severity.WARNING

    def run(self, ctx):
        for customer in sorted(ctx.model.customers):
            yield self.finding(f"hello {customer}", repo="customer-configs",
                               path=f"customers/{customer}/metadata.yaml", line=1, customer=customer)
'''


def _install_plugin(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    write_tree(site, {
        "demo_plugin.py": PLUGIN,
        "demo_plugin-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: demo-plugin\nVersion: 0.1\n",
        "demo_plugin-0.1.dist-info/entry_points.txt":
            "[gitops_checks.checks]\nboom = demo_plugin:Boom\nhello = demo_plugin:Hello\n",
    })
    return site


def test_entry_point_plugins_and_crash_isolation(tmp_path: Path):
    site = _install_plugin(tmp_path)
    env = {"PYTHONPATH": str(site)}
    proc = run_cli("list", env=env)
    assert "policy/boom" in proc.stdout and "policy/hello" in proc.stdout
    out = tmp_path / "r.json"
    proc = run_cli("--configs", CONFIGS, "--report", f"json={out}", env=env)
    report = json.loads(out.read_text())
    assert proc.returncode == 1
    crash = findings_of(report, "internal/crash")
    assert len(crash) == 1 and crash[0]["severity"] == "error"
    assert "policy/boom" in crash[0]["message"] and "ValueError" in crash[0]["message"]
    assert len(findings_of(report, "policy/hello")) == 25  # the other checks still ran
    assert "hunter2" not in proc.stdout + proc.stderr + out.read_text()
    assert "Traceback" not in proc.stderr


def test_pr_that_selects_nothing_fails_loudly(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    init_repo(configs)
    write_tree(configs, {"customers/ghost/notes.bin": "x"})
    code, report, _ = run_json("--configs", configs, "--base", "HEAD", tmp=tmp_path)
    assert code == 1
    (f,) = findings_of(report, "internal/empty-scope")
    assert "customers/ghost/notes.bin" in f["message"]
    # a documentation-only change is simply nothing to check
    (configs / "customers/ghost/notes.bin").unlink()
    write_tree(configs, {"README.md": "more words\n"})
    code, report, _ = run_json("--configs", configs, "--base", "HEAD", tmp=tmp_path)
    assert code == 0 and report["findings"] == []
