"""Attacks on the Bitbucket client (issue 21), each against a real HTTP server on 127.0.0.1:
a redirect that would carry the token to another origin, a server dripping one byte at a time,
a huge Retry-After, a huge body. Every test is bounded in time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from bitbucket_server import FakeBitbucket
from helpers import run_cli, write_tree

from checks.publish.bitbucket import BitbucketError, Budget, Client

TOKEN = "t0k3n-never-print-me"
BUILDS = "/api/latest/projects/TEST/repos/customer-configs/commits/" + "a" * 40 + "/builds"
STATUS = {"key": "k", "state": "INPROGRESS", "url": "http://jenkins/"}


def tiny_configs(tmp: Path) -> Path:
    configs = tmp / "customer-configs"
    write_tree(configs, {
        ".gitops-checks.yaml": "environments: [dev]\n",
        "products/billing/base-values.yaml": "replicaCount: 1\n",
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "customers/acme/billing/values.yaml": "replicaCount: 2\n",
    })
    return configs


def bb_args(server: FakeBitbucket) -> list[str]:
    return ["--report", "bitbucket", "--bitbucket-url", server.url, "--bitbucket-project", "TEST",
            "--bitbucket-repo", "customer-configs", "--commit", "a" * 40]


def test_redirect_to_another_origin_never_carries_the_token(tmp_path: Path):
    with FakeBitbucket(TOKEN) as bb, FakeBitbucket("other") as elsewhere:
        bb.faults += [(r"/builds$", {"redirect": f"{elsewhere.url}/rest{BUILDS}", "status": 307})] * 8
        out = tmp_path / "r.json"
        proc = run_cli("--configs", tiny_configs(tmp_path), "--report", f"json={out}", *bb_args(bb),
                       env={"BITBUCKET_TOKEN": TOKEN}, timeout=60)
        assert elsewhere.requests == []  # the token never left for the other port
        assert "redirect to another origin refused" in proc.stderr
        assert proc.returncode == 0 and json.loads(out.read_text())["summary"]["errors"] == 0
        assert TOKEN not in proc.stdout + proc.stderr


def test_redirect_within_the_same_origin_is_followed():
    with FakeBitbucket(TOKEN) as bb:
        bb.faults.append((r"/builds$", {"redirect": f"{bb.url}/rest{BUILDS}", "status": 307}))
        status, _ = Client(bb.url, TOKEN, timeout=5, budget=Budget(10)).request("POST", BUILDS, STATUS)
        assert status == 204 and len(bb.calls("POST", r"/builds$")) == 2 and bb.violations == []


def test_a_dripping_server_costs_at_most_the_deadline():
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/builds$", {"drip": 0.2, "bytes": 600})] * 4  # 2 minutes per response if waited for
        client = Client(bb.url, TOKEN, timeout=1.0, attempts=4, sleep=lambda s: None, budget=Budget(30))
        started = time.monotonic()
        with pytest.raises(BitbucketError, match=r"gave up after 4 attempts .*TimeoutError"):
            client.request("POST", BUILDS, STATUS)
        assert time.monotonic() - started < 8  # four attempts of at most one second each


def test_all_calls_together_stay_within_the_budget_and_reports_come_first(tmp_path: Path):
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/", {"drip": 0.5, "bytes": 600})] * 40
        out = tmp_path / "r.json"
        started = time.monotonic()
        proc = run_cli("--configs", tiny_configs(tmp_path), "--report", f"json={out}", *bb_args(bb),
                       env={"BITBUCKET_TOKEN": TOKEN, "GITOPS_CHECKS_BITBUCKET_TIMEOUT": "2",
                            "GITOPS_CHECKS_BITBUCKET_BUDGET": "5"}, timeout=90)
        elapsed = time.monotonic() - started
        assert proc.returncode == 0 and json.loads(out.read_text())["summary"]["errors"] == 0
        assert "time for Bitbucket" in proc.stderr and "Traceback" not in proc.stderr
        assert elapsed < 30  # the budget (5 s) plus the run; unbounded this is minutes


def test_retry_after_is_capped():
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/builds$", {"status": 429, "retry_after": 3600})] * 2
        waits: list[float] = []
        # a generous per-request timeout: on a loaded machine a 5 s one expired and the retry waited 0.5 s
        status, _ = Client(bb.url, TOKEN, timeout=60, sleep=waits.append, budget=Budget(600)).request(
            "POST", BUILDS, STATUS)
        assert status == 204 and waits == [30.0, 30.0]  # never an hour


def test_retry_after_beyond_the_budget_gives_up_at_once():
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/builds$", {"status": 429, "retry_after": 3600})] * 4
        waits: list[float] = []
        with pytest.raises(BitbucketError, match="gave up after 1 attempts"):
            Client(bb.url, TOKEN, timeout=5, sleep=waits.append, budget=Budget(10)).request("POST", BUILDS, STATUS)
        assert waits == []


def test_a_huge_response_body_is_not_read_whole():
    with FakeBitbucket(TOKEN) as bb:
        bb.faults.append((r"/pull-requests/1$", {"huge": 300 * 1024 * 1024}))
        started = time.monotonic()
        with pytest.raises(BitbucketError, match="response body over"):
            Client(bb.url, TOKEN, timeout=20, budget=Budget(30), max_body=1024 * 1024).request(
                "GET", "/api/latest/projects/TEST/repos/customer-configs/pull-requests/1")
        assert time.monotonic() - started < 15


def test_a_url_that_is_not_http_is_refused(tmp_path: Path):
    proc = run_cli("--configs", tiny_configs(tmp_path), "--report", "bitbucket", "--bitbucket-url",
                   "file:///etc/passwd", "--bitbucket-project", "P", "--bitbucket-repo", "r", "--commit", "a" * 40,
                   env={"BITBUCKET_TOKEN": TOKEN}, timeout=60)
    assert proc.returncode == 2 and "expected http:// or https://" in proc.stderr
