"""Hostile input: every case gets a finding at its path (and line where there is one), exit 1,
no traceback, bounded time, and reports that stay well-formed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import xmlschema
from harness import run_cli_here
from helpers import DATA, copy_examples, findings_of, init_repo, run_cli, write_tree

CONTRACTS = DATA / "contracts"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
ACME = "customers/acme-corp"


# Hostile files go into a real layout: the example repositories with a few of their customers
# (the other 22 add run time, not cases; tests/test_cli.py runs over all 25).
CUSTOMERS = ("acme-corp", "globex", "initech", "umbrella")


def hostile_run(tmp: Path, files: dict[str, str | bytes], extra: tuple[str, ...] = ()) -> tuple[dict, str]:
    configs, infra = copy_examples(tmp, CUSTOMERS)
    write_tree(configs, files)
    out = tmp / "out"
    started = time.perf_counter()
    # the command line's entry point in this process (tests/test_cli.py runs it as a new process)
    proc = run_cli_here("--configs", configs, "--infra", infra, "--report", f"json={out}/r.json", "--report",
                        f"junit={out}/j.xml", "--report", f"sarif={out}/s.sarif", *extra)
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"took {elapsed:.1f}s"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((out / "r.json").read_text())
    json.loads((out / "s.sarif").read_text())
    xmlschema.XMLSchema(str(CONTRACTS / "junit-10.xsd")).validate(str(out / "j.xml"))
    return report, proc.stdout


def where(report: dict) -> set[tuple]:
    return {(f["check"], f["path"], f["line"]) for f in report["findings"]}


YAML_BAD = sorted(p for p in (DATA / "yaml-bad").glob("*.yaml")
                  if p.stem not in {"9C9N", "DK95-01", "G5U8", "QB6E", "RHX7", "S98Z", "SU5Z", "X4QW"})


def test_every_yaml_test_suite_error_case_is_a_finding_at_its_file(tmp_path: Path):
    files = {f"{ACME}/configs/bad-{p.stem}.yaml": p.read_bytes() for p in YAML_BAD}
    report, _ = hostile_run(tmp_path, files)
    syntax = {(f["path"], f["line"] is not None) for f in findings_of(report, "yaml/syntax")}
    assert syntax == {(path, True) for path in files}


DEEP = "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200)) + "  " * 200 + "c\n"


@pytest.mark.parametrize("name, content, check, line", [
    ("alias bomb", BOMB, "yaml/limits", 6),
    ("deep nesting", DEEP, "yaml/limits", None),
    ("binary", b"\x00\x01\x02PK\x03\x04", "yaml/encoding", None),
    ("not utf-8", "caf\xe9: 1\n".encode("latin-1"), "yaml/encoding", 1),
    ("unsafe tag", 'x: !!python/object/apply:os.system ["touch /tmp/pwned-by-gitops-checks"]\n', "yaml/unsafe-tag",
     1),
    ("control characters", "x: \x1b[31mred\n", "yaml/syntax", 1),
])
def test_hostile_files(tmp_path: Path, name, content, check, line):
    report, stdout = hostile_run(tmp_path, {f"{ACME}/billing/values.yaml": content})
    hits = [f for f in findings_of(report, check) if f["path"] == f"{ACME}/billing/values.yaml"]
    assert hits, report["findings"]
    if line is not None:
        assert hits[0]["line"] == line
    assert "\x1b[31m" not in stdout
    assert not Path("/tmp/pwned-by-gitops-checks").exists()


def test_huge_empty_and_symlinked_files(tmp_path: Path):
    configs, infra = copy_examples(tmp_path / "c")
    (configs / f"{ACME}/billing/values.yaml").write_text("a: " + "x" * 6_000_000 + "\n")
    (configs / f"{ACME}/search/values.yaml").write_text("")
    (configs / f"{ACME}/configs/escape.yaml").symlink_to("/etc/passwd")
    out = tmp_path / "r.json"
    proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}")
    report = json.loads(out.read_text())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    got = where(report)
    assert ("yaml/too-large", f"{ACME}/billing/values.yaml", None) in got
    assert ("yaml/symlink", f"{ACME}/configs/escape.yaml", None) in got
    assert not any(f["path"] == f"{ACME}/search/values.yaml" for f in report["findings"])  # empty = no overrides


def test_wrong_shapes_and_missing_model_files(tmp_path: Path):
    report, _ = hostile_run(tmp_path, {
        f"{ACME}/products.yaml": "- 42\n- {enabled: yes}\n",
        "customers/globex/metadata.yaml": "[1, 2]\n",
        "customers/initech/products.yaml": "products: {billing: true}\n",
    })
    got = where(report)
    assert any(c == "schema/products" and p == f"{ACME}/products.yaml" for c, p, _ in got)
    assert any(c == "schema/products" and p == "customers/initech/products.yaml" for c, p, _ in got)
    assert ("yaml/not-a-mapping", "customers/globex/metadata.yaml", 1) in got


@pytest.mark.parametrize("name", ["..", "Acme Corp", "ac/me", "ümlaut", "x" * 70, "-lead"])
def test_unsafe_names_are_findings_never_paths(tmp_path: Path, name):
    if "/" in name or name == "..":
        files = {f"{ACME}/products.yaml": f"products:\n  - name: '{name}'\n"}
        path = f"{ACME}/products.yaml"
    else:
        files = {f"customers/{name}/metadata.yaml": f"id: '{name}'\nname: x\n"}
        path = f"customers/{name}"
    report, _ = hostile_run(tmp_path, files)
    assert any(f["path"] == path for f in findings_of(report, "consistency/names")), report["findings"]


@pytest.mark.parametrize("schema, check", [
    ('{"$ref": "#"}', "schema/values"),
    ('{"$defs": {"a": {"$ref": "#/$defs/a"}}, "properties": {"replicaCount": {"$ref": "#/$defs/a"}}}',
     "schema/values"),
    ('{"type": ', "schema/schema"),
    ('{"properties": {"x": {"$ref": "#/nowhere"}}}', "schema/schema"),
])
def test_broken_and_self_referencing_schemas(tmp_path: Path, schema, check):
    report, _ = hostile_run(tmp_path, {"products/billing/values.schema.json": schema})
    assert findings_of(report, check), report["findings"]


def test_unclosed_hcl(tmp_path: Path):
    report, _ = hostile_run(tmp_path, {f"{ACME}/terraform/broken.tf": 'module "x" {\n  source = "../y"\n'})
    (f,) = findings_of(report, "terraform/syntax")
    assert (f["path"], f["line"]) == (f"{ACME}/terraform/broken.tf", 3)


def test_ansi_escapes_in_values_never_reach_the_terminal(tmp_path: Path):
    report, stdout = hostile_run(tmp_path, {f"{ACME}/billing/values.yaml": 'logLevel: "\\e[2J\\e[31mLOUD"\n'})
    assert any("logLevel" in (f.get("key_path") or "") for f in findings_of(report, "schema/values"))
    assert "\x1b[2J" not in stdout and "\x1b[31mLOUD" not in stdout


@pytest.mark.parametrize("args, message", [
    (["--base", "does-not-exist"], "unknown revision"),
    (["--config", "/"], "cannot read settings file"),
    (["--shard", "3/2"], "--shard 3/2"),
])
def test_bad_invocations_exit_2_with_one_line(tmp_path: Path, args, message):
    configs, _ = copy_examples(tmp_path)
    init_repo(configs)
    proc = run_cli("--configs", configs, *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_configs_dir_that_is_not_a_repository_with_base(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    proc = run_cli("--configs", configs, "--base", "main")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr


def test_a_regorus_evaluation_error_is_an_engine_finding(tmp_path: Path):
    report, _ = hostile_run(tmp_path, {
        ".gitops-checks.yaml": "policies:\n  paths: [policy]\n",
        "policy/boom.rego": 'package boom\n\nimport rego.v1\n\ndeny contains msg if {\n  msg := 1 / 0\n}\n',
    })
    engine = findings_of(report, "policy/engine") + findings_of(report, "policy/syntax")
    assert engine and all(f["severity"] == "error" for f in engine)
