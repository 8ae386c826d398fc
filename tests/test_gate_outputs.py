"""Output integrity (issue 21): reports written whole or not at all, a report that cannot be
written named while the others are still written."""

from __future__ import annotations

import json
from pathlib import Path

from gate_repos import tiny_configs
from helpers import run_cli


def test_a_report_that_cannot_be_written_is_named_and_the_others_are_written(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    junit, sarif = tmp_path / "out/j.xml", tmp_path / "out/r.sarif"
    proc = run_cli("--configs", configs, "--report", "json=/dev/full", "--report", f"junit={junit}",
                   "--report", f"sarif={sarif}")
    assert proc.returncode == 2
    assert "cannot write report /dev/full" in proc.stderr and "internal error" not in proc.stderr
    assert junit.read_text().startswith("<?xml") and json.loads(sarif.read_text())["version"] == "2.1.0"
    assert "gitops-checks passed" in proc.stdout  # the verdict still shown


def test_reports_replace_their_file_whole(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    out = tmp_path / "r.json"
    out.write_text("old, longer than the new report " * 1000)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder is needed")
    proc = run_cli("--configs", configs, "--report", f"json={out}", "--report", f"junit={blocked}/j.xml")
    assert proc.returncode == 2 and f"cannot write report {blocked}/j.xml" in proc.stderr
    assert json.loads(out.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


AWS = "AKIAIOSFODNN7EXAMPLF"  # the documented shape of an access key id, used by nobody
SCHEMA = ('{"type": "object", "properties": {"replicaCount": {"type": "integer"}, '
          '"region": {"enum": ["eu-west-1", "us-east-1"]}}}\n')
QUOTING_POLICY = ('package team.quote\n\nimport rego.v1\n\nwarn contains msg if {\n'
                  '  msg := sprintf("region %v is not allowed", [input.values.region])\n}\n')


def test_no_output_quotes_a_secret_from_a_message_or_a_key(tmp_path: Path):
    from bitbucket_server import FakeBitbucket

    configs = tiny_configs(tmp_path, {
        ".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
        "products/billing/values.schema.json": SCHEMA, "policy/quote.rego": QUOTING_POLICY}, git=True)
    # the PR: a secret where an enum is expected, and a secret used as a key
    (configs / "customers/acme/billing/values.yaml").write_text(
        f"replicaCount: 2\nregion: {AWS}\ntags:\n  {AWS}: owner\n")
    out = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "junit", "sarif")}
    diffs = {fmt: tmp_path / f"d.{fmt}" for fmt in ("json", "markdown", "html", "text")}
    token = "t0k3n-never-print-me"
    with FakeBitbucket(token) as bb:
        proc = run_cli("--configs", configs, "--base", "HEAD", *(f"--report={f}={p}" for f, p in out.items()),
                       *(f"--report=diff-{f}={p}" for f, p in diffs.items()), "--report", "console",
                       "--report", "bitbucket", "--bitbucket-url", bb.url, "--bitbucket-project", "P",
                       "--bitbucket-repo", "customer-configs", "--commit", "a" * 40, "--pr", "1",
                       env={"BITBUCKET_TOKEN": token}, timeout=180)
        sent = json.dumps(bb.requests)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(out["json"].read_text())
    schema = [f for f in data["findings"] if f["check"] == "schema/values"]
    assert schema and all("*** (sha256:" in f["message"] for f in schema), schema
    assert any(f["check"] == "policy/rego" and "*** (sha256:" in f["message"] for f in data["findings"])
    assert any("*** (sha256:" in (f.get("key_path") or "") for f in data["findings"]
               if f["check"] == "secrets/plaintext")
    everything = proc.stdout + proc.stderr + sent + "".join(p.read_text() for p in [*out.values(), *diffs.values()])
    assert AWS not in everything
    assert "*** (sha256:" in diffs["json"].read_text()  # the diff shows the key, masked


def test_catastrophic_patterns_from_the_repository_cost_nothing(tmp_path: Path):
    evil = "^(a+)+$"
    schema = json.dumps({"type": "object", "properties": {
        "name": {"type": "string", "pattern": evil},
        "labels": {"type": "object", "patternProperties": {evil: {"type": "string"}}, "additionalProperties": False},
        "look": {"type": "string", "pattern": "^(?=x)x$"}}})
    long_a = "a" * 500 + "!"  # YAML keys stop at 1024 characters; 40 are enough for hours of backtracking
    configs = tiny_configs(tmp_path, {
        "products/billing/values.schema.json": schema,
        "customers/acme/billing/values.yaml": f"replicaCount: 2\nname: {long_a}\nlabels:\n  {long_a}: x\nlook: y\n",
        ".sops.yaml": f"creation_rules:\n  - path_regex: '{evil}'\n    age: age1{'q' * 58}\n",
        "customers/acme/billing/secrets.yaml": "password: ENC[AES256_GCM,data:abc,iv:abc,tag:abc,type:str]\n"
                                               "sops:\n  mac: ENC[AES256_GCM,data:abc,iv:abc,tag:abc,type:str]\n"
                                               "  lastmodified: '2024-01-01T00:00:00Z'\n  version: 3.8.1\n"
                                               f"  encrypted_regex: '{evil}'\n  age:\n    - recipient: age1q\n"
                                               "      enc: x\n"}, git=True)
    (configs / f"customers/acme/configs/{'a' * 200}!.yaml").parent.mkdir(parents=True)
    (configs / f"customers/acme/configs/{'a' * 200}!.yaml").write_text("a: 1\n")
    started = __import__("time").monotonic()
    proc = run_cli("--configs", configs, "--report", f"json={tmp_path}/r.json", timeout=120)
    assert __import__("time").monotonic() - started < 60  # Python's re takes hours on these
    data = json.loads((tmp_path / "r.json").read_text())
    messages = [(f["check"], f["message"]) for f in data["findings"]]
    assert any(c == "schema/values" and "does not match" in m for c, m in messages), messages
    assert any(c == "schema/values" and "labels" in m for c, m in messages), messages
    assert any(c == "schema/schema" and "cannot run in the linear-time engine" in m for c, m in messages)
    assert proc.returncode == 1


ESC_KEY = '"\\e]0;owned\\a\\e[2Jkey"'  # YAML escapes: a title change and a screen clear in a key
APPSET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: esc}
spec:
  generators:
    - list:
        elements:
          - name: "x\\e[2Jy"
  template:
    metadata: {name: '{{name}}'}
    spec:
      project: default
      source:
        repoURL: 'https://example.com/platform-infrastructure.git'
        path: "charts/\\e[31mred"
        targetRevision: HEAD
      destination: {server: 'https://kubernetes.default.svc', namespace: default}
"""


def test_terminal_escapes_from_keys_and_values_never_reach_the_terminal(tmp_path: Path):
    from helpers import commit_all, init_repo

    configs = tiny_configs(tmp_path, git=True)
    (configs / "customers/acme/billing/values.yaml").write_text(
        f"replicaCount: 2\n{ESC_KEY}: \"\\e[31mvalue\\r\"\n")
    commit_all(configs, "escapes")
    diff = run_cli("diff", "--configs", configs, "--base", "HEAD~1", "--head", "HEAD")
    values = run_cli("values", "acme", "billing", "dev", "--configs", configs, "--explain")
    infra = init_repo(tmp_path / "platform-infrastructure", {"applicationsets/esc.yaml": APPSET})
    apps = run_cli("apps", "--configs", configs, "--infra", infra)
    for proc in (diff, values, apps):
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout and "\r" not in proc.stdout and "\x07" not in proc.stdout, proc.stdout
    assert "\\x1b" in diff.stdout and "\\x1b" in values.stdout and "\\x1b" in apps.stdout
