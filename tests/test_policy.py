"""policy/*: real Rego evaluation (Regorus) of the starter pack, the conftest adapter against a
stand-in conftest (tests/fake_conftest.py -- conftest itself is not installable here), syntax errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from harness import run_json_here as run_json  # the entry point in-process: policy behaviour, not the process
from helpers import ROOT, copy_examples, findings_of, run_cli, write_tree

FAKE = str(Path(__file__).resolve().parent / "fake_conftest.py")
ACME = "customers/acme-corp"


def fake_env(mode: str = "") -> dict[str, str]:
    # the stand-in's shebang finds the venv's python (with regorus) first on PATH
    return {"GITOPS_CHECKS_CONFTEST": FAKE, "CONFTEST_FAKE_MODE": mode,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def test_starter_pack_unit_tests_pass():
    proc = run_cli("policy", "test")
    assert proc.returncode == 0, proc.stdout
    assert "28 passed, 0 failed" in proc.stdout


def test_failing_policy_test_fails_the_command(tmp_path: Path):
    write_tree(tmp_path / "pol", {
        "p.rego": 'package team\n\nimport rego.v1\n\ndeny contains "x" if { input.a == 1 }\n',
        "p_test.rego": 'package team\n\nimport rego.v1\n\ntest_wrong if { count(deny) == 2 with input as {"a": 1} }\n'
                       '\ntest_right if { count(deny) == 1 with input as {"a": 1} }\n'})
    proc = run_cli("policy", "test", tmp_path / "pol")
    assert proc.returncode == 1
    assert "FAIL  pol/p_test.rego: test_wrong" in proc.stdout and "1 passed, 1 failed" in proc.stdout


def test_examples_are_clean_with_both_engines(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "policy", tmp=tmp_path)
    assert code == 0 and report["findings"] == []
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "policy",
                               "--policy-engine", "conftest", tmp=tmp_path, env=fake_env())
    assert code == 0 and report["findings"] == []


def _break(configs: Path) -> None:
    (configs / ACME / "billing/environments/prod.yaml").write_text(
        "replicaCount: 1\nlogLevel: debug\nresources:\n  limits:\n    memory: null\n")
    (configs / ACME / "billing/values.yaml").write_text(
        "image:\n  tag: latest\ningress:\n  hosts:\n    - host: billing.globex.example.com\n"
        "autoscaling:\n  enabled: false\n")


EXPECTED = {
    ("policy/rego", f"{ACME}/billing/environments/prod.yaml", 1, "deny_prod_replicas"),
    ("policy/rego", f"{ACME}/billing/environments/prod.yaml", 2, "warn_prod_debug_logging"),
    # the deleted key is not there: the finding points at its parent, `limits:`
    ("policy/rego", f"{ACME}/billing/environments/prod.yaml", 4, "deny_prod_resources"),
    ("policy/rego", f"{ACME}/billing/values.yaml", 2, "deny_image_tag"),
    ("policy/rego", f"{ACME}/billing/values.yaml", 5, "deny_ingress_host"),
    ("policy/rego", f"{ACME}/billing/values.yaml", 6, "warn_gold_autoscaling"),
}


def _got(report: dict) -> set[tuple]:
    return {(f["check"], f["path"], f["line"], f["message"].split("[")[-1].split("]")[0])
            for f in findings_of(report, "policy/rego")}


def test_each_starter_rule_fires_at_the_line_that_set_the_value(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    _break(configs)
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "policy", tmp=tmp_path)
    assert code == 1
    assert _got(report) == EXPECTED
    image = next(f for f in findings_of(report, "policy/rego") if "deny_image_tag" in f["message"])
    assert image["severity"] == "error" and "environments: dev, prod, staging" in image["message"]
    gold = next(f for f in findings_of(report, "policy/rego") if "gold" in f["message"])
    assert gold["severity"] == "warning" and gold["environment"] == "prod"


def test_conftest_adapter_gives_the_same_findings(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    _break(configs)
    _, regorus_report, _ = run_json("--configs", configs, "--infra", infra, "--check", "policy",
                                    "--policy-engine", "regorus", tmp=tmp_path)
    code, conftest_report, proc = run_json("--configs", configs, "--infra", infra, "--check", "policy",
                                           "--policy-engine", "conftest", tmp=tmp_path, env=fake_env())
    assert code == 1, proc.stderr
    strip = lambda r: sorted((f["check"], f["path"], f["line"], f["severity"], f["message"]) for f in r["findings"])  # noqa: E731
    assert strip(conftest_report) == strip(regorus_report)
    assert len(strip(regorus_report)) == len(EXPECTED)


@pytest.mark.parametrize("mode, fragment", [("exit2", "conftest exited with 2"),
                                            ("garbage", "not its JSON output"),
                                            ("nonlist", "not a list")])
def test_conftest_misbehaving_is_an_engine_error_never_a_pass(tmp_path: Path, mode, fragment):
    configs, infra = copy_examples(tmp_path)
    code, report, proc = run_json("--configs", configs, "--infra", infra, "--policy-engine", "conftest",
                                  tmp=tmp_path, env=fake_env(mode))
    assert code == 1 and "Traceback" not in proc.stderr
    (f,) = findings_of(report, "policy/engine")
    assert fragment in f["message"] and f["severity"] == "error"


def test_conftest_requested_but_missing_exits_2(tmp_path: Path):
    proc = run_cli("--configs", ROOT / "examples/customer-configs", "--policy-engine", "conftest",
                   env={"PATH": "/usr/bin:/bin", "GITOPS_CHECKS_CONFTEST": ""})
    assert proc.returncode == 2 and "conftest is not on PATH" in proc.stderr


def test_team_policies_syntax_errors_and_exceptions(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    write_tree(configs, {
        ".gitops-checks.yaml": "policies:\n  paths: [policy]\n",
        "policy/broken.rego": "package team\n\nimport rego.v1\n\ndeny contains msg if {\n  input.x ==\n}\n",
        "policy/team.rego": 'package team\n\nimport rego.v1\n\n'
                            'deny_no_billing_in_dev contains "billing is not run in dev" if {\n'
                            '  input.product == "billing"\n  input.environment == "dev"\n}\n\n'
                            'exception contains ["no_billing_in_dev"] if { input.customer.tier == "gold" }\n',
        f"{ACME}/configs/feature-flags.yaml": "a: 1\na: 2\n",
    })
    code, report, _ = run_json("--configs", configs, "--infra", infra, tmp=tmp_path)
    assert code == 1
    (syntax,) = findings_of(report, "policy/syntax")
    assert (syntax["repo"], syntax["path"], syntax["line"]) == ("customer-configs", "policy/broken.rego", 7)
    assert findings_of(report, "yaml/duplicate-key")  # the other checks still ran
    team = [f for f in findings_of(report, "policy/rego") if "billing is not run in dev" in f["message"]]
    assert team and all(f["environment"] == "dev" for f in team)
    # gold customers (acme-corp is gold) are excepted, as conftest does
    assert not any(f["customer"] == "acme-corp" for f in team)
    assert any("acme-corp" not in f["message"] for f in team)


def test_batched_evaluation_equals_one_unit_at_a_time(tmp_path: Path):
    from checks.engines.rego import RegorusEngine, load_policies

    team = tmp_path / "team"
    write_tree(team, {"strict.rego": 'package team.strict\nimport rego.v1\n\ndeny_odd contains "odd replicas" if {\n'
                                     "\tinput.values.replicaCount % 2 == 1\n}\n"})
    policies = load_policies([("policies", ROOT / "policies"), ("team", team)])
    engine = RegorusEngine(policies)
    engine.batch = 7  # several batches and a short last one
    # the batch path itself must work, or evaluate() would quietly fall back to one by one
    assert engine._batched and engine._evaluate_batch([{"values": {}}]) is not None
    inputs = []
    for i in range(40):
        values = {"replicaCount": i % 4, "image": {"repository": "r", "tag": "latest" if i % 5 == 0 else "1.2.3"},
                  "resources": {"requests": {"cpu": "1"}} if i % 3 else {}}
        inputs.append({"customer": {"id": f"c{i}", "tier": "gold" if i % 2 else "silver"}, "product": "billing",
                       "environment": ("dev", "staging", "prod")[i % 3], "values": values})
    batched = engine.evaluate(inputs)
    one_by_one = [engine.evaluate_one(d) for d in inputs]
    assert batched == one_by_one
    assert sum(len(r) for r in batched) > 40  # the rules really fired, in both packages
    assert any(r.rule == "deny_odd" for results in batched for r in results)


def test_a_batch_that_fails_falls_back_to_one_unit_at_a_time(tmp_path: Path):
    from checks.engines.rego import EngineError, RegorusEngine, load_policies

    team = tmp_path / "team"
    # a runtime error for one input only (division by zero): the batch fails, each unit is tried alone
    write_tree(team, {"div.rego": "package team.div\nimport rego.v1\n\ndeny_ratio contains msg if {\n"
                                  "\tx := 10 / input.values.d\n\tx > 100\n\tmsg := \"too high\"\n}\n"})
    engine = RegorusEngine(load_policies([("team", team)]))
    good = [{"values": {"d": 1}}, {"values": {"d": 0.05}}]
    assert [[r.rule for r in rs] for rs in engine.evaluate(good)] == [[], ["deny_ratio"]]
    assert engine._evaluate_batch([*good, {"values": {"d": 0}}]) is None  # the batch fails as a whole
    with pytest.raises(EngineError, match=r"team\.div: divide by zero"):  # one by one names the package
        engine.evaluate([*good, {"values": {"d": 0}}])


def test_the_sandboxed_engine_answers_as_the_embedded_one(tmp_path: Path):
    # the child process gets each input as its JSON text and evaluates it as the embedded engine does
    from checks.engines.rego import RegorusEngine, SandboxedRegorus, input_json, load_policies

    team = tmp_path / "team"
    write_tree(team, {"odd.rego": 'package team.odd\nimport rego.v1\n\ndeny_odd contains "odd replicas" if {\n'
                                  "\tinput.values.replicaCount % 2 == 1\n}\n"})
    policies = load_policies([("policies", ROOT / "policies"), ("team", team)])
    inputs = [{"customer": {"id": f"c{i}", "tier": "gold"}, "product": "billing", "environment": ("dev", "prod")[i % 2],
               "values": {"replicaCount": i % 3, "image": {"tag": "latest" if i % 4 == 0 else "1.0"}}}
              for i in range(12)]
    embedded = RegorusEngine(policies).evaluate(inputs)
    sandboxed = SandboxedRegorus(policies)
    assert sandboxed.evaluate(inputs) == embedded
    assert sandboxed.evaluate_texts([input_json(d) for d in inputs]) == embedded
    assert {r.rule for results in embedded for r in results} >= {"deny_odd", "deny_image_tag", "deny_prod_replicas"}
