"""Checks declare their options with types; the settings file is validated against the registry;
a suppression naming no check is reported; every environment variable is read in one module;
the README's "Adding a check" example is correct code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from harness import run, run_check, settings_from
from helpers import ROOT, run_cli

from checks.core.findings import Severity
from checks.core.settings import ENVIRONMENT, ConfigError
from checks.runner import registry
from checks.runner.configuration import parse_settings_text
from checks.runner.parallel import split_whole
from checks.runner.registry import Option, all_checks

PACKAGE = ROOT / "checks"


@pytest.mark.parametrize(("text", "expected"), [
    ("fail_on: error\nchecks:\n  options:\n    terraform/module-source:\n      pining: sha\n",
     "s.yaml:5: checks.options.terraform/module-source.pining: terraform/module-source has no option 'pining' "
     "(did you mean 'pinning'?)"),
    ("checks:\n  options:\n    terraform/module-source:\n      pinning: 3\n",
     "s.yaml:4: checks.options.terraform/module-source.pinning: expected a string, got an integer"),
    ("checks:\n  options:\n    terraform/module-source:\n      allowed_roots: [1]\n",
     "s.yaml:4: checks.options.terraform/module-source.allowed_roots: expected a list of a string, got an item 1"),
    ("checks:\n  options:\n    terraform/module-source:\n      pinning: loose\n",
     "s.yaml:4: checks.options.terraform/module-source.pinning: expected one of tag-or-sha, sha, semver, flexible"),
    ("checks:\n  options:\n    secrets/plaintext:\n      disable_plugins: KeywordDetector\n",
     "s.yaml:4: checks.options.secrets/plaintext.disable_plugins: expected a list, got a string"),
    ("checks:\n  options:\n    yaml/syntax:\n      strict: true\n",
     "s.yaml:4: checks.options.yaml/syntax.strict: yaml/syntax has no option 'strict' (it has no options)"),
    ("checks:\n  options:\n    terraform/nope:\n      a: 1\n",
     "s.yaml:3: checks.options.terraform/nope: options for a check that does not exist"),
    ("checks:\n  severity:\n    yaml/syntx: warning\n",
     "s.yaml:3: checks.severity.yaml/syntx: no check named 'yaml/syntx' (did you mean 'yaml/syntax'?)"),
    ("checks:\n  enable: [secrets]\n  disable: [yaml, yaml/nope]\n",
     "s.yaml:3: checks.disable.1: no check or family named 'yaml/nope'"),
    ("helm: 4\nlimit:\n  max_file_bytes: 1\n",
     "s.yaml:2: invalid setting limit: unknown setting (did you mean 'limits'?)"),
    ("limits:\n  max_yaml_nodes: 10\n  max_bytes: 1\n",
     "s.yaml:3: invalid setting limits.max_bytes: unknown setting"),
])
def test_a_wrong_setting_stops_at_its_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings_text(text, "s.yaml")
    assert str(err.value).startswith(expected)


def test_valid_options_and_severities_pass() -> None:
    data = parse_settings_text(
        "checks:\n  enable: [git/unsigned-commit]\n  severity: {internal/crash: warning, yaml/syntax: warning}\n"
        "  options:\n    terraform/module-source: {pinning: sha, allowed_hosts: [git.example.com]}\n"
        "    git/unsigned-commit: {allowed_signers: .signers}\n", "s.yaml")
    assert data["checks"]["options"]["terraform/module-source"]["pinning"] == "sha"


def test_the_command_line_exits_2_with_the_line(tmp_path: Path) -> None:
    settings = tmp_path / "s.yaml"
    settings.write_text("checks:\n  options:\n    terraform/module-source:\n      pining: sha\n")
    proc = run_cli("--configs", ROOT / "examples" / "customer-configs", "--config", settings)
    assert proc.returncode == 2
    assert f"{settings}:4: checks.options.terraform/module-source.pining" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_option_of_every_check_is_typed_and_its_default_passes() -> None:
    for cls in all_checks().values():
        for name, spec in cls.option_specs().items():
            assert spec.type is not object, f"{cls.id}.{name} has no type"
            assert spec.problem(spec.default) is None, f"{cls.id}.{name}: default fails its own type"


def test_option_types() -> None:
    assert Option(2, int).problem(True) == "expected an integer, got true or false"
    assert Option(0.5, float).problem(1) is None
    assert Option(None, str).problem(None) is None
    assert Option([], list, items=str).problem(["a", 2]) == "expected a list of a string, got an item 2"
    assert Option.of(["x"]).type is list and Option.of("x").problem(1) == "expected a string, got an integer"


def test_the_checks_that_need_every_customer_say_so() -> None:
    whole = {cid for cid, cls in all_checks().items() if cls.whole_platform}
    assert whole and all(cid.startswith("appset/") for cid in whole)
    checks = [cls() for cls in all_checks().values()]
    per_part, run_whole = split_whole(checks)
    assert {c.id for c in run_whole} == whole and not {c.id for c in per_part} & whole


def test_a_suppression_naming_no_check_is_a_finding(tmp_path: Path) -> None:
    found = run_check("yaml/duplicate-key", tmp_path, files={
        "customers/acme/configs/flags.yaml": "a: 1\na: 2  # gitops-checks: ignore[yaml/duplicate-keys] on purpose\n"})
    assert sorted((f.check, f.line, f.severity) for f in found) == [
        ("internal/suppression", 2, Severity.WARNING), ("yaml/duplicate-key", 2, Severity.ERROR)]
    (complaint,) = [f for f in found if f.check == "internal/suppression"]
    assert "'yaml/duplicate-keys'" in complaint.message
    # a correct id (or family) suppresses and is not reported
    assert run_check("yaml/duplicate-key", tmp_path / "ok", files={
        "customers/acme/configs/flags.yaml": "a: 1\na: 2  # gitops-checks: ignore[yaml] on purpose\n"}) == []


def test_settings_options_reach_the_check(tmp_path: Path) -> None:
    settings = settings_from("checks:\n  options:\n    terraform/module-source: {allowed_hosts: [git.example.com]}\n")
    tf = 'module "m" {\n  source = "git::https://git.example.com/m.git?ref=v1.2.0"\n}\n'
    files = {"customers/acme/terraform/main.tf": tf}
    assert run_check("terraform/module-source", tmp_path / "a", files=files, settings=settings) == []
    (blocked,) = run_check("terraform/module-source", tmp_path / "b", files=files)
    assert "allowed_hosts" in blocked.message


def test_only_the_settings_module_reads_the_suites_environment_variables() -> None:
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "core" / "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"environ(\.get)?\s*[\[(]\s*[\"']GITOPS_CHECKS_|getenv\(\s*[\"']GITOPS_CHECKS_", text):
            readers.append(str(path.relative_to(PACKAGE)))
    assert readers == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in ENVIRONMENT if f"`{name}`" not in readme] == []
    settings_source = (PACKAGE / "core" / "settings.py").read_text(encoding="utf-8")
    assert "ENVIRONMENT_VARIABLES" not in settings_source


def test_grouped_findings_carry_their_units_in_a_typed_field(tmp_path: Path) -> None:
    files = {"products/web/base-values.yaml": "a: 1\n",
             "products/web/values.schema.json": '{"type": "object", "properties": {"a": {"type": "string"}}}'}
    for customer in ("acme", "globex"):
        files[f"customers/{customer}/metadata.yaml"] = f"name: {customer}\n"
        files[f"customers/{customer}/products.yaml"] = "products: [web]\n"
        files[f"customers/{customer}/web/values.yaml"] = "b: 1\n"
    found = [f for f in run(tmp_path, ["schema/values"], files=files).findings if f.check == "schema/values"]
    assert found, "a value of the wrong type in the product base is a finding"
    for f in found:
        assert "\x00" not in f.message and all("\x00" not in str(v) for v in f.extra.values())
        assert f.group is None  # merged: a plain run keeps no units on the finding
        assert "unit_group" not in f.to_dict()


def test_the_readme_example_check_is_correct_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Adding a check"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n", section.index("```python"))]
    ast.parse(code)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # the example registers itself
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README's code
    cls = all_checks()["policy/prod-replicas"]
    files = {"products/web/base-values.yaml": "replicaCount: 1\n"}
    for customer, replicas in (("acme", 1), ("globex", 3)):
        files[f"customers/{customer}/metadata.yaml"] = f"name: {customer}\n"
        files[f"customers/{customer}/products.yaml"] = "products: [web]\n"
        files[f"customers/{customer}/web/values.yaml"] = "x: 1\n"
        files[f"customers/{customer}/web/environments/prod.yaml"] = f"replicaCount: {replicas}\n"
    found = run_check(cls, tmp_path, files=files)
    assert [(f.customer, f.environment, f.path, f.line, f.message) for f in found] == [
        ("acme", "prod", "customers/acme/web/environments/prod.yaml", 1, "prod needs at least 2 replicas, has 1")]
    stricter = run_check(cls, tmp_path / "b", files=files, options={"policy/prod-replicas": {"minimum": 4}})
    assert sorted(f.customer for f in stricter) == ["acme", "globex"]
    with pytest.raises(ConfigError):
        parse_settings_text("checks:\n  options:\n    policy/prod-replicas: {minimum: two}\n", "s.yaml")
