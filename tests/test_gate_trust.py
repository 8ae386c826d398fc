"""PR mode's trust model (issue 21): a pull request cannot switch the gate off. Each attack is a
real pull request on a real git repository: the branch `main` is the target, the PR branch
changes the gate's settings, policies, baseline or suppressions next to a real problem."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gate_repos import tiny_configs
from helpers import commit_all, git, run_json, write_tree

AWS = "AKIAIOSFODNN7EXAMPLF"  # an access key id of the documented shape, used by nobody
SECRET_VALUES = f"replicaCount: 2\naws_access_key_id: {AWS}\n"
TEAM_POLICY = ('package team.replicas\n\nimport rego.v1\n\ndeny contains msg if {\n'
               '  input.values.replicaCount > 1\n  msg := "team: at most one replica"\n}\n')


def pull_request(tmp: Path, base_extra: dict[str, str], pr_files: dict[str, str]) -> Path:
    """`main` with the tiny tree and `base_extra`; the checked-out branch `pr` with `pr_files` on top."""
    configs = tiny_configs(tmp, base_extra, git=True)
    git(configs, "checkout", "-q", "-b", "pr")
    write_tree(configs, pr_files)
    commit_all(configs, "the pull request")
    return configs


def checks_of(data: dict) -> list[str]:
    return [f["check"] for f in data["findings"]]


def test_settings_from_the_pr_cannot_switch_checks_off(tmp_path: Path):
    configs = pull_request(tmp_path, {}, {
        "customers/acme/billing/values.yaml": SECRET_VALUES,
        ".gitops-checks.yaml": "environments: [dev]\nchecks:\n  disable: [secrets, schema, yaml]\n"
                               "  severity: {secrets/plaintext: notice}\nfail_on: notice\nexclude: ['*']\n"
                               "limits: {max_file_bytes: 999999999}\n",
    })
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    (secret,) = [f for f in data["findings"] if f["check"] == "secrets/plaintext"]
    assert secret["severity"] == "error" and AWS not in json.dumps(data)
    gate = {f["message"].split(":")[0] for f in data["findings"] if f["check"] == "git/gate-change"}
    assert {"checks.disable adds secrets", "checks.disable adds schema", "checks.disable adds yaml",
            "checks.severity.secrets/plaintext", "exclude adds '*'", "limits.max_file_bytes default -> 999999999"
            } <= gate, gate
    assert all(f["path"] == ".gitops-checks.yaml" and f["line"] for f in data["findings"]
               if f["check"] == "git/gate-change")
    # a full run on the same tree keeps today's behaviour: the settings file is the team's own
    code, data, _ = run_json("--configs", configs, tmp=tmp_path)
    assert "secrets/plaintext" not in checks_of(data)


def test_a_suppression_added_by_the_pr_cannot_hide_a_secret_and_is_listed(tmp_path: Path):
    configs = pull_request(tmp_path, {"customers/acme/configs/flags.yaml": "a: 1\n"}, {
        "customers/acme/billing/values.yaml": "replicaCount: 2\n# gitops-checks: ignore[secrets] test key, harmless\n"
                                              f"aws_access_key_id: {AWS}\n",
        "customers/acme/configs/flags.yaml": "a: 1\na: 2  # gitops-checks: ignore[yaml/duplicate-key] kept for now\n",
    })
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", "--report", "console",
                                tmp=tmp_path)
    assert code == 1
    assert "secrets/plaintext" in checks_of(data) and "yaml/duplicate-key" not in checks_of(data)
    added = {(a["path"], a["checks"]): a for a in data["suppressions_added"]}
    assert added[("customers/acme/billing/values.yaml", "secrets")]["refused"] == 1
    assert added[("customers/acme/configs/flags.yaml", "yaml/duplicate-key")]["hid"] == 1
    assert "suppression added by this change: customer-configs/customers/acme/configs/flags.yaml:2" in proc.stdout


def test_a_suppression_already_on_the_base_keeps_working(tmp_path: Path):
    configs = pull_request(tmp_path, {
        "customers/acme/billing/values.yaml": "replicaCount: 2\n# gitops-checks: ignore[secrets] rotated, ticket 1\n"
                                              f"aws_access_key_id: {AWS}\n"}, {
        "customers/acme/billing/values.yaml": "replicaCount: 3\n# gitops-checks: ignore[secrets] rotated, ticket 1\n"
                                              f"aws_access_key_id: {AWS}\n"})
    code, data, _ = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 0 and "secrets/plaintext" not in checks_of(data) and "suppressions_added" not in data


def test_a_baseline_from_the_pr_hides_nothing(tmp_path: Path):
    configs = tiny_configs(tmp_path / "probe", {"customers/acme/billing/values.yaml": SECRET_VALUES})
    _, probe, _ = run_json("--configs", configs, tmp=tmp_path / "probe")
    fingerprint = next(f["fingerprint"] for f in probe["findings"] if f["check"] == "secrets/plaintext")
    baseline = json.dumps({"version": 1, "findings": [{"fingerprint": fingerprint, "check": "secrets/plaintext",
                                                       "reason": "trust me"}]})
    configs = pull_request(tmp_path, {}, {
        "customers/acme/billing/values.yaml": SECRET_VALUES, "baseline.json": baseline,
        ".gitops-checks.yaml": "environments: [dev]\nbaseline: baseline.json\n"})
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    assert "secrets/plaintext" in checks_of(data) and data["summary"]["baselined"] == 0
    assert any("baseline None -> 'baseline.json'" in f["message"] for f in data["findings"])


def test_policies_come_from_the_base_and_their_change_is_reported(tmp_path: Path):
    configs = pull_request(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/replicas.rego": TEAM_POLICY}, {
        "policy/replicas.rego": "package team.replicas\n",  # the PR empties the rule that fails it
        ".gitops-checks.yaml": "environments: [dev]\n"})
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    assert any(f["check"] == "policy/rego" and "at most one replica" in f["message"] for f in data["findings"])
    gate = [f for f in data["findings"] if f["check"] == "git/gate-change"]
    assert {f["path"] for f in gate} == {"policy/replicas.rego", ".gitops-checks.yaml"}


def test_a_policy_symlink_out_of_the_checkout_is_never_read(tmp_path: Path):
    outside = tmp_path / "outside.rego"
    outside.write_text('package leak\n\nimport rego.v1\n\ndeny contains "LEAKED-CONTENT" if { true }\n')
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/replicas.rego": TEAM_POLICY}, git=True)
    os.symlink(outside, configs / "policy/leak.rego")
    os.symlink("/proc/self/environ", configs / "policy/environ.rego")
    commit_all(configs, "links")
    for rev in ([], ["--head", "HEAD"]):
        code, data, proc = run_json("--configs", configs, *rev, tmp=tmp_path, env={"SECRET_IN_ENV": "hunter2-env"})
        assert code == 1
        text = json.dumps(data) + proc.stdout + proc.stderr
        assert "LEAKED-CONTENT" not in text and "hunter2-env" not in text
        syntax = {f["path"]: f["message"] for f in data["findings"] if f["check"] == "policy/syntax"}
        assert set(syntax) == {"policy/leak.rego", "policy/environ.rego"} and "symlink" in syntax["policy/leak.rego"]
        assert any("at most one replica" in f["message"] for f in data["findings"])  # the real policy still runs


def test_a_policy_that_crashes_the_engine_is_a_finding_and_the_run_completes(tmp_path: Path):
    recursive = ('package team.rec\n\nimport rego.v1\n\nf(x) := y if { y := f(x + 1) }\n\n'
                 'deny contains msg if { msg := sprintf("%v", [f(1)]) }\n')
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/rec.rego": recursive}, git=True)
    junit = tmp_path / "junit.xml"
    code, data, proc = run_json("--configs", configs, "--report", f"junit={junit}", tmp=tmp_path, timeout=120)
    assert code == 1, proc.stderr
    (engine,) = [f for f in data["findings"] if f["check"] == "policy/engine"]
    assert "SIGSEGV" in engine["message"] and junit.exists()


def _run_policy(tmp: Path, rego: str, cpu: str, memory: str) -> str:
    configs = tiny_configs(tmp, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                 "policy/p.rego": rego}, git=True)
    code, data, proc = run_json("--configs", configs, tmp=tmp, timeout=120,
                                env={"GITOPS_CHECKS_POLICY_CPU_SECONDS": cpu, "GITOPS_CHECKS_POLICY_MEMORY_MB": memory})
    assert code == 1, proc.stderr
    (engine,) = [f for f in data["findings"] if f["check"] == "policy/engine"]
    return engine["message"]


def test_a_policy_that_loops_is_stopped_by_its_cpu_limit(tmp_path: Path):
    loop = ('package team.loop\n\nimport rego.v1\n\ndeny contains "never" if {\n'
            '  some x in numbers.range(1, 100000)\n  some y in numbers.range(1, 100000)\n  x == y + 1000000\n}\n')
    assert "SIGXCPU" in _run_policy(tmp_path, loop, "2", "1024")


def test_a_policy_that_eats_memory_is_stopped_by_its_memory_limit(tmp_path: Path):
    bomb = ('package team.bomb\n\nimport rego.v1\n\ndeny contains "never" if {\n'
            '  count([x | some x in numbers.range(1, 100000000); x < 0]) > 0\n}\n')
    assert "SIGABRT" in _run_policy(tmp_path, bomb, "60", "512")


def test_rego_print_output_never_reaches_the_terminal_raw(tmp_path: Path):
    printing = ('package team.chatty\n\nimport rego.v1\n\ndeny contains "chatty" if {\n'
                '  print("\\u001b]0;owned\\u0007 values:", input.values)\n  input.values.replicaCount > 100\n}\n')
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/chatty.rego": printing}, git=True)
    code, _, proc = run_json("--configs", configs, tmp=tmp_path)
    assert code == 0, proc.stderr
    assert "owned" not in proc.stderr + proc.stdout and "\x1b" not in proc.stderr + proc.stdout


def test_conftest_runs_without_the_environment(tmp_path: Path):
    import sys

    fake = Path(__file__).resolve().parent / "fake_conftest.py"
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/replicas.rego": TEAM_POLICY}, git=True)
    code, data, proc = run_json("--configs", configs, "--policy-engine", "conftest", tmp=tmp_path, env={
        "GITOPS_CHECKS_CONFTEST": str(fake), "CONFTEST_FAKE_MODE": "env", "BITBUCKET_TOKEN": "t0k3n-never-print-me",
        "AWS_SECRET_ACCESS_KEY": "x" * 40, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert code == 1, proc.stderr
    (names,) = [f["message"] for f in data["findings"] if f["message"].startswith("env: ")]
    assert "BITBUCKET_TOKEN" not in names and "AWS_SECRET_ACCESS_KEY" not in names and "PATH" in names
    assert any("at most one replica" in f["message"] for f in data["findings"])


def test_a_pr_that_breaks_the_settings_file_is_an_error_finding_not_a_stop(tmp_path: Path):
    configs = pull_request(tmp_path, {}, {
        ".gitops-checks.yaml": "environments: [dev]\nchecks: {disable: [secrets]}\nno_such_setting: 1\n",
        "customers/acme/billing/values.yaml": SECRET_VALUES})
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    (broken,) = [f for f in data["findings"] if f["check"] == "git/gate-change"]
    assert broken["severity"] == "error" and "not valid" in broken["message"]
    assert "secrets/plaintext" in checks_of(data)  # the base's settings ran the checks
