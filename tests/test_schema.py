"""schema/*: effective values against real chart schemas nobody here wrote (tests/data/charts,
sources in its SOURCES.tsv), findings at the file and line a human must edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness import run_json_here as run_json  # the entry point in-process: schema behaviour, not the process
from helpers import DATA, findings_of, write_tree

CHARTS = DATA / "charts"
ALL = ("traefik", "cert-manager", "nginx", "postgresql", "redis")


def chart_repo(tmp: Path, charts=ALL, customer_files: dict[str, str] | None = None) -> Path:
    """customer-configs whose products are the real charts: schema + their own values as base values."""
    configs = tmp / "configs"
    for chart in charts:
        (configs / "products" / chart).mkdir(parents=True)
        shutil.copy(CHARTS / chart / "values.schema.json", configs / "products" / chart / "values.schema.json")
        shutil.copy(CHARTS / chart / "values.yaml", configs / "products" / chart / "base-values.yaml")
        write_tree(configs, {f"customers/acme/{chart}/values.yaml": "{}\n"})
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [" + ", ".join(charts) + "]\n",
        **(customer_files or {}),
    })
    return configs


def where(report: dict, check: str) -> set[tuple]:
    return {(f["path"], f["line"], f.get("key_path"), f["environment"]) for f in findings_of(report, check)}


def test_real_chart_schemas_accept_their_own_values(tmp_path: Path):
    configs = chart_repo(tmp_path)
    code, report, proc = run_json("--configs", configs, "--check", "schema", tmp=tmp_path)
    assert code == 0, proc.stdout
    assert findings_of(report, "schema/values") == []
    assert {f["severity"] for f in report["findings"]} <= {"notice"}  # Bitnami's legacy $schema URI
    assert report["summary"]["units"] == 15


def test_traefik_layered_overrides_break_at_their_lines(tmp_path: Path):
    configs = chart_repo(tmp_path, ("traefik",), {
        "customers/acme/traefik/values.yaml": "replicaCount: 3\n",
        "customers/acme/traefik/environments/prod.yaml": "deployment:\n  replicas: two\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    assert code == 1
    assert where(report, "schema/values") == {
        ("customers/acme/traefik/values.yaml", 1, "replicaCount", None),
        ("customers/acme/traefik/environments/prod.yaml", 2, "deployment.replicas", "prod"),
    }
    (extra,) = [f for f in report["findings"] if f["key_path"] == "replicaCount"]
    assert "dev, prod, staging" in extra["message"]  # one finding for the three environments
    (typed,) = [f for f in report["findings"] if f["key_path"] == "deployment.replicas"]
    assert "must be integer or null" in typed["message"] and '"two"' in typed["message"]


def test_cert_manager_refs_and_product_environment_layer(tmp_path: Path):
    configs = chart_repo(tmp_path, ("cert-manager",), {
        "products/cert-manager/environments/prod.yaml": "\nreplicaCount: three\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    assert code == 1
    assert where(report, "schema/values") == {
        ("products/cert-manager/environments/prod.yaml", 2, "replicaCount", "prod")}


def test_bitnami_postgresql_nested_type_error(tmp_path: Path):
    configs = chart_repo(tmp_path, ("postgresql",), {
        "customers/acme/postgresql/environments/staging.yaml": "auth:\n  enablePostgresUser: maybe\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    assert code == 1
    assert where(report, "schema/values") == {
        ("customers/acme/postgresql/environments/staging.yaml", 2, "auth.enablePostgresUser", "staging")}


def test_null_deleting_a_required_value_points_at_the_parent(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "products/billing/values.schema.json":
            '{"type": "object", "required": ["image"], "properties": {"image": {"type": "object", '
            '"required": ["repository", "tag"], "properties": {"tag": {"type": "string"}}}}}\n',
        "products/billing/base-values.yaml": "image:\n  repository: r\n  tag: '1'\n",
        "customers/acme/billing/values.yaml": "image:\n  tag: null\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    assert code == 1
    (f,) = findings_of(report, "schema/values")
    # Without a chart the null stays (stage 1): a type error at the line that set it.
    assert (f["path"], f["line"], f["key_path"]) == ("customers/acme/billing/values.yaml", 2, "image.tag")
    write_tree(configs, {"customers/acme/billing/values.yaml": "replicas: 1\n",
                         "products/billing/base-values.yaml": "replicas: 1\n"})
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    (f,) = findings_of(report, "schema/values")
    assert "missing required property 'image'" in f["message"]
    assert "looked in: product base, customer product" in f["message"]
    assert (f["path"], f["line"]) == ("customers/acme/billing/values.yaml", 1)


def test_one_of_reports_the_best_match_not_a_wall(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "products/billing/values.schema.json":
            '{"properties": {"port": {"oneOf": [{"type": "integer"}, '
            '{"type": "object", "required": ["number"], "properties": {"number": {"type": "integer"}}}]}}}',
        "products/billing/base-values.yaml": "port: {number: eighty}\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/values", tmp=tmp_path)
    assert code == 1
    (f,) = findings_of(report, "schema/values")
    assert f["key_path"] == "port.number" and "must be integer" in f["message"]


def test_secretish_values_never_appear_in_messages(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "products/billing/values.schema.json": '{"properties": {"dbPassword": {"type": "integer"}}}',
        "products/billing/base-values.yaml": "dbPassword: s3cr3t-Pa55w0rd-value\n",
    })
    code, _, proc = run_json("--configs", configs, tmp=tmp_path)
    assert code == 1
    assert "s3cr3t" not in (tmp_path / "report.json").read_text() + proc.stdout + proc.stderr


@pytest.mark.parametrize("schema, message, line", [
    ('{"type": "object",\n "properties": {"port": {"$ref": "#/$defs/missing"}}}', "cannot be resolved", 2),
    ('{"type": "objekt"}', "not a valid JSON Schema", 1),
    ('{"type": "object",\n "properties": {\n', "not valid JSON", 3),
    ('{"properties": {"a": {"$ref": "https://example.com/s.json"}}}', "never fetched", 1),
])
def test_broken_schema_is_reported_once_and_units_not_silently_passed(tmp_path: Path, schema, message, line):
    configs = tmp_path / "configs"
    files = {"customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
             "customers/acme/products.yaml": "products: [billing]\n",
             "products/billing/values.schema.json": schema,
             "products/billing/base-values.yaml": "port: 1\n"}
    for other in ("globex", "initech"):
        files[f"customers/{other}/metadata.yaml"] = f"id: {other}\nname: X\n"
        files[f"customers/{other}/products.yaml"] = "products: [billing]\n"
    write_tree(configs, files)
    code, report, _ = run_json("--configs", configs, "--check", "schema", tmp=tmp_path)
    assert code == 1
    (f,) = findings_of(report, "schema/schema")
    assert message in f["message"] and f["line"] == line
    (nv,) = findings_of(report, "schema/values")
    assert "9 units of billing not validated" in nv["message"]


def test_schema_with_a_local_file_ref(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "products/billing/values.schema.json": '{"properties": {"port": {"$ref": "common.json#/$defs/port"}}}',
        "products/billing/common.json": '{"$defs": {"port": {"type": "integer", "maximum": 65535}}}',
        "products/billing/base-values.yaml": "port: 70000\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema", tmp=tmp_path)
    assert code == 1
    assert findings_of(report, "schema/schema") == []
    (f,) = findings_of(report, "schema/values")
    assert f["key_path"] == "port" and "maximum 65535" in f["message"]


@pytest.mark.parametrize("draft", ["http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-06/schema#",
                                   "http://json-schema.org/draft-07/schema#",
                                   "https://json-schema.org/draft/2019-09/schema",
                                   "https://json-schema.org/draft/2020-12/schema"])
def test_every_supported_draft(tmp_path: Path, draft):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: [billing]\n",
        "products/billing/values.schema.json":
            f'{{"$schema": "{draft}", "properties": {{"host": {{"type": "string", "format": "ipv4"}}}}}}',
        "products/billing/base-values.yaml": "host: 300.1.1.1\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema", tmp=tmp_path)
    assert code == 1
    assert findings_of(report, "schema/schema") == []
    assert [f["key_path"] for f in findings_of(report, "schema/values")] == ["host"]


def test_metadata_schema_is_extendable_from_settings(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\ncontacts:\n  - email: not-an-email\n",
        "customers/acme/products.yaml": "products: []\n",
    })
    code, report, _ = run_json("--configs", configs, "--check", "schema/metadata", tmp=tmp_path)
    assert code == 1
    assert [(f["line"], f["key_path"]) for f in findings_of(report, "schema/metadata")] == [(4, "contacts[0].email")]
    write_tree(configs, {".gitops-checks.yaml": "schemas:\n  metadata:\n    required: [cost_center]\n",
                         "customers/acme/metadata.yaml": "id: acme\nname: Acme\n"})
    code, report, _ = run_json("--configs", configs, "--check", "schema/metadata", tmp=tmp_path)
    (f,) = findings_of(report, "schema/metadata")
    assert "cost_center" in f["message"] and f["line"] == 1
