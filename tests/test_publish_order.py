"""Bitbucket comes last (issue 21, "write the local reports before the first call"): the checks
run, every local report is written, and only then is Bitbucket called, within its time budget.
Against the real HTTP server of bitbucket_server.py on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bitbucket_server import FakeBitbucket
from helpers import init_repo, run_cli, write_tree

TOKEN = "t0k3n-never-print-me"


def configs_with_an_error(tmp: Path) -> Path:
    configs = tmp / "customer-configs"
    write_tree(configs, {
        ".gitops-checks.yaml": "environments: [dev]\n",
        "products/billing/base-values.yaml": "replicaCount: 1\n",
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "customers/acme/billing/values.yaml": "replicaCount: 2\nreplicaCount: 3\n",  # a duplicate key: an error
    })
    return configs


def bb_args(server: FakeBitbucket) -> list[str]:
    return ["--report", "bitbucket", "--bitbucket-url", server.url, "--bitbucket-project", "TEST",
            "--bitbucket-repo", "customer-configs", "--commit", "a" * 40]


def local_reports(tmp: Path) -> tuple[list[str], list[Path]]:
    paths = [tmp / "out" / "r.json", tmp / "out" / "r.xml", tmp / "out" / "r.sarif"]
    return ["--report", f"json={paths[0]}", "--report", f"junit={paths[1]}", "--report", f"sarif={paths[2]}"], paths


def test_every_local_report_is_written_before_the_first_bitbucket_call(tmp_path: Path):
    configs = configs_with_an_error(tmp_path)
    report_args, paths = local_reports(tmp_path)
    with FakeBitbucket(TOKEN) as bb:
        proc = run_cli("--configs", configs, *report_args, *bb_args(bb), env={"BITBUCKET_TOKEN": TOKEN}, timeout=90)
        assert proc.returncode == 1, proc.stderr
        written = max(p.stat().st_mtime for p in paths)
        assert bb.requests, "nothing was published"
        assert min(r["at"] for r in bb.requests) >= written
        # the verdict only: no INPROGRESS status before it
        assert [s["body"]["state"] for s in bb.calls("POST", r"/builds$")] == ["FAILED"]
        assert bb.violations == []
    assert json.loads(paths[0].read_text())["summary"]["errors"] >= 1


def test_a_hanging_server_neither_delays_nor_prevents_the_local_reports(tmp_path: Path):
    configs = configs_with_an_error(tmp_path)
    report_args, paths = local_reports(tmp_path)
    budget = 4.0
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r".", {"delay": 60})] * 40  # every request hangs for a minute
        started = time.time()
        proc = run_cli("--configs", configs, *report_args, *bb_args(bb),
                       env={"BITBUCKET_TOKEN": TOKEN, "GITOPS_CHECKS_BITBUCKET_TIMEOUT": "1",
                            "GITOPS_CHECKS_BITBUCKET_BUDGET": str(budget)}, timeout=90)
        ended = time.time()
        assert proc.returncode == 1, proc.stderr  # the findings decide, not Bitbucket
        written = max(p.stat().st_mtime for p in paths)
        assert bb.requests and min(r["at"] for r in bb.requests) >= written
        # the reports were complete before Bitbucket was asked anything; the server cost the run
        # at most its budget (plus the process's exit), counted from the first call
        assert ended - min(r["at"] for r in bb.requests) < budget + 3
        assert written >= started
    assert json.loads(paths[0].read_text())["summary"]["errors"] >= 1
    assert paths[1].read_text().startswith("<?xml") and json.loads(paths[2].read_text())["runs"]
    assert "warning: Bitbucket" in proc.stderr and TOKEN not in proc.stdout + proc.stderr


def test_the_pr_from_the_environment_gets_the_diff_in_its_comment_as_with_pr(tmp_path: Path):
    # BITBUCKET_PR instead of --pr: the comment carries the effective-value diff all the same
    configs = configs_with_an_error(tmp_path)
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 2\n")
    init_repo(configs)
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 4\n")  # the PR's change
    with FakeBitbucket(TOKEN) as bb:
        proc = run_cli("--configs", configs, "--base", "HEAD", "--report", f"json={tmp_path}/r.json", *bb_args(bb),
                       env={"BITBUCKET_TOKEN": TOKEN, "BITBUCKET_PR": "5"}, timeout=90)
        assert proc.returncode == 0, proc.stderr
        (comment,) = bb.comments.values()
        assert "gitops-checks passed" in comment["text"] and "Effective values" in comment["text"]
        assert "replicaCount" in comment["text"]
        assert bb.violations == []
