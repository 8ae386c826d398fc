"""CI integration: JUnit against Jenkins xUnit's schema, SARIF, Bitbucket Data Center against its OpenAPI
contract on a real local HTTP server (with faults), sharding, and the pipeline files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import xmlschema
import yaml
from bitbucket_server import FakeBitbucket
from harness import run_cli_here
from helpers import DATA, EXAMPLES, ROOT, copy_examples, init_repo, run_cli, write_tree

from checks.publish import bitbucket

CONTRACTS = DATA / "contracts"
TOKEN = "t0k3n-never-print-me"


def broken_examples(tmp: Path) -> tuple[Path, Path]:
    configs, infra = copy_examples(tmp)
    write_tree(configs, {
        "customers/acme-corp/configs/feature-flags.yaml": "a: 1\na: 2\n",
        "customers/globex/configs/x.yaml": "x: !vault secret\n",
        ".gitops-checks.yaml": "policies:\n  paths: [policy]\n",
        "policy/ansi.rego": 'package ansi\n\nimport rego.v1\n\nwarn contains "colour \\u001b[31mred\\u001b[0m" if {\n'
                            '  input.customer.id == "initech"\n  input.environment == "prod"\n}\n',
    })
    return configs, infra


def test_junit_is_valid_for_jenkins_and_counts_only_errors(tmp_path: Path):
    import xml.etree.ElementTree as ET

    configs, infra = broken_examples(tmp_path)
    schema = xmlschema.XMLSchema(str(CONTRACTS / "junit-10.xsd"))
    cases = {}
    for granularity in ("coarse", "fine"):
        out = tmp_path / f"junit-{granularity}.xml"
        proc = run_cli("--configs", configs, "--infra", infra, "--report", f"junit={out}",
                       *(["--junit-granularity", "fine"] if granularity == "fine" else []))
        assert proc.returncode == 1
        schema.validate(str(out))
        root = ET.parse(out).getroot()  # noqa: S314 - our own report
        suites = {s.get("name"): s for s in root.findall("testsuite")}
        assert "yaml/duplicate-key" in suites and "schema/values" in suites
        assert root.get("failures") == "1"  # the duplicate key; the warnings do not fail
        dup = suites["yaml/duplicate-key"]
        failing = [c.get("name") for c in dup.findall("testcase") if c.find("failure") is not None]
        cases[granularity] = {s: {c.get("name") for c in suite.findall("testcase")} for s, suite in suites.items()}
        ansi = [c for c in suites["policy/rego"].findall("testcase") if c.find("system-out") is not None]
        assert ansi and "\x1b" not in out.read_text()
        if granularity == "fine":
            assert failing == ["customer-configs/customers/acme-corp/configs/feature-flags.yaml"]
            assert "acme-corp/billing/prod" in cases["fine"]["schema/values"]
            assert len(cases["fine"]["schema/values"]) == 222
        else:  # one case per check and customer (and `all`), stable names
            assert failing == ["customers/acme-corp"]
            customers = {p.name for p in (configs / "customers").iterdir()}
            assert cases["coarse"]["schema/values"] == {f"customers/{c}" for c in customers} | {"all"}
    assert sum(map(len, cases["coarse"].values())) * 3 < sum(map(len, cases["fine"].values()))


def test_sarif_has_rules_locations_and_fingerprints(tmp_path: Path):
    configs, infra = broken_examples(tmp_path)
    out = tmp_path / "r.sarif"
    run_cli("--configs", configs, "--infra", infra, "--report", f"sarif={out}")
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and "sarif-schema-2.1.0" in sarif["$schema"]
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "Passes:" in rules["yaml/duplicate-key"]["help"]["text"]
    (dup,) = [r for r in run["results"] if r["ruleId"] == "yaml/duplicate-key"]
    loc = dup["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "customers/acme-corp/configs/feature-flags.yaml",
                                       "uriBaseId": "customer-configs"}
    assert loc["region"] == {"startLine": 2, "startColumn": 1}
    assert dup["level"] == "error" and dup["partialFingerprints"]["gitopsChecks/v1"]
    assert run["tool"]["driver"]["rules"][dup["ruleIndex"]]["id"] == "yaml/duplicate-key"


def bb_args(server: FakeBitbucket, *extra: str) -> list[str]:
    return ["--report", "bitbucket", "--bitbucket-url", server.url, "--bitbucket-project", "TEST",
            "--bitbucket-repo", "customer-configs", "--commit", "a" * 40, *extra]


def test_bitbucket_status_insights_annotations_and_one_pr_comment(tmp_path: Path):
    configs, infra = broken_examples(tmp_path)
    init_repo(configs)
    # the PR breaks billing in staging (an error) next to the team policy's warning
    (configs / "products/billing/environments/staging.yaml").write_text("replicaCount: many\n")
    with FakeBitbucket(TOKEN) as bb:
        for run in (1, 2):
            proc = run_cli("--configs", configs, "--infra", infra, "--base", "HEAD", "--report",
                           f"json={tmp_path}/r{run}.json", *bb_args(bb, "--pr", "7"),
                           env={"BITBUCKET_TOKEN": TOKEN, "BUILD_URL": "http://jenkins/job/1/"})
            assert proc.returncode == 1, proc.stderr
            assert TOKEN not in proc.stdout + proc.stderr
        assert bb.violations == []
        statuses = bb.calls("POST", r"/commits/f{40}/builds$")  # the PR's head commit, not the merge commit
        assert [s["body"]["state"] for s in statuses] == ["FAILED", "FAILED"]  # the verdict only, no INPROGRESS
        final = statuses[0]["body"]
        assert final["url"] == "http://jenkins/job/1/" and final["testResults"]["failed"] >= 1
        (report,) = bb.calls("PUT", r"/reports/gitops-checks$")[:1]
        assert report["body"]["result"] == "FAIL" and len(report["body"]["data"]) <= 6
        annotations = bb.calls("POST", r"/reports/gitops-checks/annotations$")[0]["body"]["annotations"]
        assert annotations[0]["severity"] == "HIGH" and annotations[-1]["severity"] in ("MEDIUM", "LOW")
        assert all(a["path"] and not a["path"].startswith("/") for a in annotations)
        assert len(bb.calls("DELETE", r"/reports/gitops-checks/annotations$")) == 2
        # one comment, edited in place on the re-run
        assert len(bb.calls("POST", r"/pull-requests/7/comments$")) == 1
        assert len(bb.calls("PUT", r"/pull-requests/7/comments/1$")) == 1
        (comment,) = bb.comments.values()
        assert comment["version"] == 1 and "Effective values" in comment["text"]
        assert "gitops-checks failed" in comment["text"]


def test_bitbucket_retries_and_honours_retry_after(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/builds$", {"status": 503}), (r"/reports/gitops-checks$", {"status": 429, "retry_after": 1})]
        started = time.perf_counter()
        proc = run_cli("--configs", configs, "--infra", infra, *bb_args(bb), env={"BITBUCKET_TOKEN": TOKEN})
        assert time.perf_counter() - started >= 1.0  # waited as told
        assert proc.returncode == 0 and "warning" not in proc.stderr
        assert [s["body"]["state"] for s in bb.calls("POST", r"/builds$")] == ["SUCCESSFUL", "SUCCESSFUL"]
        assert len(bb.calls("PUT", r"/reports/gitops-checks$")) == 2
        assert bb.violations == []


def test_bitbucket_failures_never_change_the_verdict_or_leak_the_token(tmp_path: Path):
    configs, infra = broken_examples(tmp_path)
    with FakeBitbucket(TOKEN) as bb:
        bb.faults += [(r"/builds$", {"status": 500})] * 8 + [(r"/reports/gitops-checks$", {"status": 400}),
                                                            (r"/pull-requests/3$", {"malformed": True}),
                                                            (r"/annotations$", {"delay": 3})]
        out = tmp_path / "r.json"
        proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}", *bb_args(bb, "--pr", "3"),
                       env={"BITBUCKET_TOKEN": TOKEN, "GITOPS_CHECKS_BITBUCKET_TIMEOUT": "1"})
    assert proc.returncode == 1  # the findings decide, not Bitbucket
    assert json.loads(out.read_text())["summary"]["errors"] >= 1  # local reports intact
    assert "warning: Bitbucket: build status" in proc.stderr and "gave up after 4 attempts" in proc.stderr
    assert "Code Insights report failed" in proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_bitbucket_unreachable_and_missing_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    configs, _ = copy_examples(tmp_path)
    args = ["--report", "bitbucket", "--bitbucket-url", "http://127.0.0.1:9", "--bitbucket-project", "TEST",
            "--bitbucket-repo", "customer-configs", "--commit", "a" * 40]
    # the command line in this process, its client's back-off recorded instead of slept through
    slept: list[float] = []

    class NoWaitClient(bitbucket.Client):
        def __init__(self, *args, **kw) -> None:
            super().__init__(*args, **{**kw, "sleep": slept.append})

    monkeypatch.setattr(bitbucket, "Client", NoWaitClient)
    proc = run_cli_here("--configs", configs, *args, env={"BITBUCKET_TOKEN": TOKEN})
    assert proc.returncode == 0 and "ConnectionRefusedError" in proc.stderr and TOKEN not in proc.stderr
    assert slept and slept[:3] == [0.5, 1.0, 2.0]  # it did retry, backing off
    proc = run_cli("--configs", configs, *args, env={"BITBUCKET_TOKEN": ""})
    assert proc.returncode == 2 and "BITBUCKET_TOKEN" in proc.stderr


def test_comment_409_is_retried_with_the_new_version(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    init_repo(configs)
    with FakeBitbucket(TOKEN) as bb:
        bb.comments[1] = {"id": 1, "version": 4, "text": "<!-- gitops-checks -->\nold"}
        bb.faults.append((r"/comments/1$", {"status": 409}))
        proc = run_cli("--configs", configs, "--infra", infra, "--base", "HEAD", *bb_args(bb, "--pr", "9"),
                       env={"BITBUCKET_TOKEN": TOKEN})
        assert proc.returncode == 0 and "warning" not in proc.stderr
        assert bb.comments[1]["version"] == 5 and "old" not in bb.comments[1]["text"]


def whole_and_shards(tmp: Path, configs: Path, infra: Path, n: int = 3) -> tuple[Path, list[Path]]:
    """The JSON report of an unsharded run, and those of its N shards."""
    whole = tmp / "whole.json"
    run_cli("--configs", configs, "--infra", infra, "--report", f"json={whole}")
    parts = [tmp / f"s{k}.json" for k in range(1, n + 1)]
    for k, out in enumerate(parts, start=1):
        run_cli("--configs", configs, "--infra", infra, "--shard", f"{k}/{n}", "--report", f"json={out}")
    return whole, parts


def test_shards_check_everything_exactly_once_and_merge(tmp_path: Path):
    configs, infra = broken_examples(tmp_path)
    whole, parts = whole_and_shards(tmp_path, configs, infra)
    units = [set(json.loads(p.read_text())["examined"]["unit"]) for p in parts]
    assert sum(len(u) for u in units) == len(set().union(*units)) == 222  # a partition
    merged = tmp_path / "merged.json"
    proc = run_cli("merge-reports", *parts, "--report", f"json={merged}", "--report", f"junit={tmp_path}/m.xml")
    assert proc.returncode == 1
    key = lambda r: sorted((f["check"], f["path"], f["line"], f["message"]) for f in r["findings"])  # noqa: E731
    assert key(json.loads(merged.read_text())) == key(json.loads(whole.read_text()))
    xmlschema.XMLSchema(str(CONTRACTS / "junit-10.xsd")).validate(str(tmp_path / "m.xml"))
    proc = run_cli("merge-reports", *parts[:2])
    assert proc.returncode == 2 and "incomplete" in proc.stderr


def test_pipeline_files():
    import jsonschema

    schema = json.loads((CONTRACTS / "bitbucket-pipelines.schema.json").read_text())
    doc = yaml.safe_load((ROOT / "bitbucket-pipelines.yml").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    assert doc["pipelines"]["pull-requests"]
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"gitops-checks", "gitops-checks-secrets"}
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    body = "\n".join(line.split("//")[0] if "://" not in line else line for line in jenkinsfile.splitlines())
    assert body.count("{") == body.count("}") and body.count("(") == body.count(")")
    for word in ("pipeline {", "agent", "stages {", "withCredentials", "junit", "archiveArtifacts", "parallel",
                 "merge-reports", "ci/pr-checks.sh publish"):
        assert word in jenkinsfile
    assert "--report bitbucket" in (ROOT / "ci" / "pr-checks.sh").read_text()
    assert EXAMPLES.exists()


def test_findings_about_units_of_several_shards_merge_into_one(tmp_path: Path):
    # a product-level value breaks the schema for every customer of billing: each shard sees some of them
    configs, infra = copy_examples(tmp_path)
    write_tree(configs, {"products/billing/environments/prod.yaml": "logLevel: loud\n"})
    whole, parts = whole_and_shards(tmp_path, configs, infra)
    per_shard = [[f["message"] for f in json.loads(p.read_text())["findings"] if f["check"] == "schema/values"]
                 for p in parts]
    assert len({m for ms in per_shard for m in ms}) == 3  # three partial counts, one per shard
    merged = tmp_path / "merged.json"
    run_cli("merge-reports", *parts, "--report", f"json={merged}")
    key = lambda r: sorted((f["check"], f["path"], f["line"], f["message"], f["customer"])  # noqa: E731
                           for f in r["findings"])
    assert key(json.loads(merged.read_text())) == key(json.loads(whole.read_text()))
    (finding,) = [f for f in json.loads(whole.read_text())["findings"] if f["check"] == "schema/values"]
    assert "units of" in finding["message"] and "unit_group" not in finding  # internal: never in a plain report
