"""unevaluatedProperties with patternProperties matched by RE2 (issue 21, unbounded cost).

The keyword's behaviour is checked against the JSON-Schema-Test-Suite's own cases
(tests/draft2019-09/unevaluatedProperties.json and tests/draft2020-12/unevaluatedProperties.json,
copied to tests/data/json-schema-test-suite, sources in SOURCES.tsv there), run through
python-jsonschema alone (no jsonschema-rs fast path), so every case exercises our replacement.
The attack: a chart's values.schema.json whose patternProperties key backtracks
catastrophically in Python's `re`, reached through unevaluatedProperties."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest
from gate_repos import tiny_configs
from helpers import init_repo, run_cli

from checks.engines.schema_keywords import evaluated_keys, with_safe_patterns

SUITE = Path(__file__).resolve().parent / "data" / "json-schema-test-suite"
DRAFTS = {"draft2019-09": jsonschema.Draft201909Validator, "draft2020-12": jsonschema.Draft202012Validator}


def _cases() -> list:
    out = []
    for draft, cls in DRAFTS.items():
        for group in json.loads((SUITE / f"{draft}-unevaluatedProperties.json").read_text()):
            for case in group["tests"]:
                out.append(pytest.param(cls, group["schema"], case["data"], case["valid"],
                                        id=f"{draft}: {group['description']}: {case['description']}"))
    return out


@pytest.mark.parametrize(("cls", "schema", "data", "valid"), _cases())
def test_json_schema_test_suite_unevaluated_properties(cls, schema, data, valid):
    validator = with_safe_patterns(cls)(schema)
    assert validator.is_valid(data) is valid
    assert (next(validator.iter_errors(data), None) is None) is valid


def test_the_replacement_keyword_is_the_one_that_runs():
    for cls in DRAFTS.values():
        safe = with_safe_patterns(cls)
        assert safe.VALIDATORS["unevaluatedProperties"] is not cls.VALIDATORS["unevaluatedProperties"]
        assert safe.VALIDATORS["patternProperties"] is not cls.VALIDATORS["patternProperties"]


EVIL = "^(a+)+$"
LONG_KEY = "a" * 60 + "!"  # Python's re: 2^60 steps; RE2: 61


@pytest.mark.parametrize("cls", list(DRAFTS.values()), ids=list(DRAFTS))
def test_catastrophic_pattern_property_under_unevaluated_properties_is_linear(cls):
    schema = {"type": "object", "patternProperties": {EVIL: {"type": "string"}}, "unevaluatedProperties": False,
              "allOf": [{"patternProperties": {EVIL: {"type": "string"}}}]}
    validator = with_safe_patterns(cls)(schema)
    started = time.monotonic()
    errors = list(validator.iter_errors({LONG_KEY: "x", "aaaa": "y"}))
    assert time.monotonic() - started < 5
    assert [e.validator for e in errors] == ["unevaluatedProperties"]
    assert repr(LONG_KEY) in errors[0].message and "'aaaa'" not in errors[0].message
    assert evaluated_keys(validator, {"aaaa": "y", LONG_KEY: "x"}, schema, cls is jsonschema.Draft201909Validator) \
        == ["aaaa", "aaaa"]  # once for the schema's own patternProperties, once for the allOf branch's


CHART_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"replicaCount": {"type": "integer"}},
    "patternProperties": {EVIL: {"type": "string"}},
    "unevaluatedProperties": False,
}


def test_chart_schema_with_a_catastrophic_pattern_gives_a_finding_not_a_hang(tmp_path: Path):
    """The chart's own values.schema.json in platform-infrastructure, with `unevaluatedProperties:
    false` and a backtracking patternProperties key, against a customer value with a long key."""
    configs = tiny_configs(tmp_path, {"customers/acme/billing/values.yaml": f"replicaCount: 2\n{LONG_KEY}: x\n"},
                           git=True)
    infra = init_repo(tmp_path / "platform-infrastructure", {
        "products/billing/Chart.yaml": "apiVersion: v2\nname: billing\nversion: 1.0.0\n",
        "products/billing/values.yaml": "replicaCount: 1\n",
        "products/billing/values.schema.json": json.dumps(CHART_SCHEMA, indent=2),
    })
    report = tmp_path / "r.json"
    started = time.monotonic()
    proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={report}", timeout=120)
    assert time.monotonic() - started < 60  # Python's re: 2^60 steps for this one key
    assert proc.returncode == 1, proc.stderr
    found = [f for f in json.loads(report.read_text())["findings"] if f["check"] == "schema/values"]
    assert found, proc.stdout
    assert any("chart schema platform-infrastructure/products/billing/values.schema.json" in f["message"]
               and LONG_KEY in f["message"] for f in found), found
    assert all(f["path"] == "customers/acme/billing/values.yaml" for f in found), found
