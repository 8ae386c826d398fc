"""The two-stage validator: jsonschema-rs answers "valid" quickly, python-jsonschema explains the rest.

A wrong "valid" from the fast stage would be a wrong green, so its verdicts are compared
with python-jsonschema's on the real chart schemas (tests/data/charts, sources in its
SOURCES.tsv) and on generated instances against schemas built to hit the keywords where
two implementations could part ways (integer-valued floats, booleans vs numbers,
patterns, formats, draft 4's integer rule, uniqueness, $ref to a sibling file).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.core.settings import Limits
from checks.engines.jsonschemas import TwoStageValidator, compile_schema, extended_validator
from checks.model.platform import CONFIGS
from checks.repo.documents import DocumentStore
from checks.repo.source import WorkingTreeSource

CHARTS = ("traefik", "cert-manager", "nginx", "postgresql", "redis")


def compiled(tmp: Path, files: dict[str, str], path: str):
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    store = DocumentStore({CONFIGS: WorkingTreeSource(tmp, CONFIGS)}, Limits())
    return compile_schema(store, CONFIGS, path)


@pytest.mark.parametrize("chart", CHARTS)
def test_real_chart_schemas_compile_to_both_stages_and_agree_on_their_values(tmp_path: Path, chart: str):
    schema_text = (DATA / "charts" / chart / "values.schema.json").read_text()
    result = compiled(tmp_path, {"s.json": schema_text}, "s.json")
    assert result is not None and result.validator is not None
    validator = result.validator
    assert validator.fast is not None, "the fast stage is off for a real chart schema: no speed-up"
    import yaml

    values = yaml.safe_load((DATA / "charts" / chart / "values.yaml").read_text())
    assert validator.is_valid_fast(values) == validator.full.is_valid(values) is True
    # A broken copy: every top-level string replaced by a list -- both stages must reject it alike.
    broken = {k: ([v] if isinstance(v, str) else v) for k, v in values.items()}
    assert validator.is_valid_fast(broken) == validator.full.is_valid(broken)
    messages = [e.message for e in validator.iter_errors(broken)]
    assert messages == [e.message for e in validator.full.iter_errors(broken)]
    if any(isinstance(v, str) for v in values.values()):
        assert messages, "a string replaced by a list passed"


SCHEMAS = {
    "draft7": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMaximum": 1},
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,20}$", "minLength": 2},
        "host": {"type": "string", "format": "hostname"},
        "mail": {"format": "email"},
        "when": {"format": "date-time"},
        "url": {"format": "uri"},
        "enabled": {"type": "boolean"},
        "level": {"enum": ["info", "warn", 1, True, None]},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 3},
        "flags": {"type": "array", "uniqueItems": True},
        "limits": {"type": "object", "additionalProperties": {"type": ["string", "integer"]},
                   "propertyNames": {"pattern": "^[a-z]+$"}},
        "mode": {"oneOf": [{"const": "a"}, {"type": "integer"}, {"type": "null"}]},
    }, "required": ["replicas"], "additionalProperties": False},
    "draft4": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "properties": {
        "replicas": {"type": "integer"}, "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True},
        "tags": {"type": "array", "uniqueItems": True}}},
    "draft2020": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
        "ports": {"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}},
        "env": {"type": "object", "patternProperties": {"^[A-Z_]+$": {"type": "string"}},
                "unevaluatedProperties": False},
        "replicas": {"$ref": "#/$defs/count"}}, "$defs": {"count": {"type": "integer", "minimum": 0}}},
}

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.sampled_from([0.0, 1.0, 2.5, 0.999, 1.0e20, -0.0]),
    st.sampled_from(["", "a", "ab", "info", "warn", "web-1", "Web", "a" * 22, "x.example.com", "-bad-", "a@b",
                     "not an email", "2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "https://example.com/x",
                     "::not a uri", "ENV", "lower", "١٢"]),
)
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from([*SCHEMAS["draft7"]["properties"], "ENV_X", "lower", "ports", "env", "x"]),
                    inner, max_size=5)), max_leaves=12)
_documents = st.dictionaries(st.sampled_from(
    ["replicas", "ratio", "name", "host", "mail", "when", "url", "enabled", "level", "tags", "flags", "limits",
     "mode", "ports", "env", "other"]), _json, max_size=6)


def _both(name: str) -> TwoStageValidator:
    schema = SCHEMAS[name]
    cls = jsonschema.validators.validator_for(schema)
    from checks.engines.jsonschemas import _no_retrieval, fast_validator

    fast = fast_validator(cls, schema, _no_retrieval)
    assert fast is not None
    return TwoStageValidator(cls(schema, format_checker=cls.FORMAT_CHECKER), fast)


VALIDATORS = {name: _both(name) for name in SCHEMAS}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SCHEMAS)), instance=_documents)
def test_fast_stage_agrees_with_python_jsonschema(name: str, instance: dict):
    validator = VALIDATORS[name]
    assert validator.is_valid_fast(instance) == validator.full.is_valid(instance), (name, json.dumps(instance))


def test_instances_the_fast_stage_cannot_take_go_to_python_jsonschema():
    validator = VALIDATORS["draft7"]
    # our parser turns keys into text as Helm does, but a plugin may hand over anything
    instance = {"replicas": 2, 1: "a"}
    assert not validator.is_valid_fast(instance)  # jsonschema-rs refuses non-string keys: no verdict
    assert [e.validator for e in validator.iter_errors(instance)] == ["additionalProperties"]


def test_a_ref_to_a_sibling_file_resolves_in_both_stages(tmp_path: Path):
    files = {"products/p/values.schema.json": json.dumps(
                 {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                  "properties": {"port": {"$ref": "defs.json#/definitions/port"}}}),
             "products/p/defs.json": json.dumps({"definitions": {"port": {"type": "integer", "maximum": 65535}}})}
    result = compiled(tmp_path, files, "products/p/values.schema.json")
    validator = result.validator
    assert validator.fast is not None
    assert validator.is_valid_fast({"port": 80})
    assert not validator.is_valid_fast({"port": 70000})
    assert [e.message for e in validator.iter_errors({"port": 70000})] == ["70000 is greater than the maximum of 65535"]


def test_builtin_schemas_use_both_stages():
    validator = extended_validator("metadata", None)
    assert validator.fast is not None
    assert list(validator.iter_errors({"id": "acme", "name": "Acme"})) == []


# -- the schema itself against its draft's metaschema ---------------------------------------------
# A fast "valid schema" that python-jsonschema would reject would leave a broken schema unreported
# (and compile it): the fast verdict must never be "valid" where python-jsonschema finds an error.

_DRAFTS = [jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator,
           jsonschema.Draft201909Validator, jsonschema.Draft202012Validator]
_KEYWORDS = ["type", "properties", "items", "prefixItems", "required", "enum", "const", "minimum", "maximum",
             "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "format",
             "additionalProperties", "patternProperties", "allOf", "anyOf", "oneOf", "not", "$ref", "$id", "id",
             "$anchor", "$dynamicAnchor", "$defs", "definitions", "dependencies", "dependentRequired",
             "uniqueItems", "minItems", "multipleOf", "if", "then", "else", "contains", "default", "title"]
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2.5, 2.5), st.sampled_from(
    ["string", "object", "integer", "number", "array", "null", "boolean", "nope", "#/$defs/a", "a", "^a+$", "(",
     "uri", "#frag", "_anchor", "1bad"]), st.integers(2**63, 2**70))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from([*_KEYWORDS, "a", "b"]), inner, max_size=3)),
    max_leaves=8)
_schemas = st.one_of(st.booleans(), st.dictionaries(st.sampled_from(_KEYWORDS), _values, max_size=4))


def _python_valid(cls, schema) -> bool:
    return not any(True for _ in cls(cls.META_SCHEMA).iter_errors(schema))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schemas, draft=st.sampled_from(_DRAFTS))
def test_a_fast_valid_schema_is_one_python_jsonschema_finds_valid(schema, draft):
    from checks.engines.jsonschemas import meta_valid_fast

    if meta_valid_fast(draft, schema):
        assert _python_valid(draft, schema)


@pytest.mark.parametrize("chart", CHARTS)
def test_real_chart_schemas_are_valid_schemas_in_both(chart: str):
    from checks.engines.jsonschemas import meta_valid_fast

    schema = json.loads((DATA / "charts" / chart / "values.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    assert meta_valid_fast(cls, schema) and _python_valid(cls, schema)
    broken = {**schema, "type": 5, "required": "name"}
    assert not meta_valid_fast(cls, broken) and not _python_valid(cls, broken)


def test_a_schema_rejected_fast_is_reported_with_python_jsonschema_messages(tmp_path: Path):
    result = compiled(tmp_path, {"s.json": json.dumps({"type": "object", "properties": {"a": {"minimum": "x"}}})},
                      "s.json")
    assert [p.message for p in result.problems] == [
        "not a valid JSON Schema at properties.a.minimum: 'x' is not of type 'number'"]


def test_format_answers_are_remembered_per_string_and_stay_right():
    """The fast stage asks python-jsonschema's format checkers once per distinct string (the same
    ingress host in every environment of a customer's product): answers equal to asking each time."""
    from checks.engines.jsonschemas import _remembered_format

    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    hosts = ["billing.acme.example.com", "-bad-.example.com", "a" * 64 + ".example.com", "x", "under_score.io", ""]
    for fmt in ("hostname", "email", "date-time", "ipv4"):
        conforms = _remembered_format(checker, fmt)
        for value in [*hosts, "a@b.example", "2026-01-01T00:00:00Z", "10.0.0.1", "300.0.0.1"] * 3:
            assert conforms(value) == checker.conforms(value, fmt), (fmt, value)
        assert conforms(7) == checker.conforms(7, fmt)  # anything but a string: asked each time
    validator = VALIDATORS["draft7"]
    for host in hosts * 3:
        instance = {"replicas": 1, "host": host}
        assert validator.is_valid_fast(instance) == validator.full.is_valid(instance), host
    assert not validator.is_valid_fast({"replicas": 1, "host": "-bad-.example.com"})
    assert validator.is_valid_fast({"replicas": 1, "host": "billing.acme.example.com"})
