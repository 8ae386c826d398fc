"""Helm-faithful value layering: Helm's own test cases, and the four-layer corners."""

from __future__ import annotations

import json

import pytest
from helpers import init_repo, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.model.platform import CONFIGS, INFRA, Unit
from checks.model.values import Layer, _compute_with_provenance, compute
from checks.repo.documents import Limits, YamlDocument, parse_yaml_text

UNIT = Unit("acme", "billing", "prod")


def layers_of(*texts: str, chart: str | None = None, helm: int = 4) -> list[Layer]:
    layers = []
    if chart is not None:
        docs, problems = parse_yaml_text(chart, Limits())
        assert not problems
        layers.append(Layer("chart defaults", INFRA, "products/billing/values.yaml", docs[0]))
    for i, text in enumerate(texts):
        docs, problems = parse_yaml_text(text, Limits())
        assert not problems
        for j, doc in enumerate(docs[:1] if helm == 3 else docs):
            if doc.value is not None:
                layers.append(Layer(f"layer {i}", CONFIGS, f"f{i}.yaml", doc, j))
    return layers


def effective(*texts: str, chart: str | None = None, helm: int = 4) -> dict:
    return compute(UNIT, layers_of(*texts, chart=chart, helm=helm), helm).values


# -- Helm's pkg/cli/values/options_test.go TestMergeValues (mergeMaps) --------------
NESTED = "foo: bar\nbaz: {cool: stuff}\n"
ANOTHER_NESTED = "foo: bar\nbaz: {cool: things, awesome: stuff}\n"
FLAT = "foo: bar\nbaz: stuff\n"
ANOTHER_FLAT = "testing: fun\n"


def test_helm_merge_maps_flat_then_nested_takes_nested():
    assert effective(FLAT, NESTED) == {"foo": "bar", "baz": {"cool": "stuff"}}


def test_helm_merge_maps_nested_then_flat_takes_flat():
    assert effective(NESTED, FLAT) == {"foo": "bar", "baz": "stuff"}


def test_helm_merge_maps_nested_twice_merges():
    assert effective(NESTED, ANOTHER_NESTED) == {"foo": "bar", "baz": {"cool": "things", "awesome": "stuff"}}


def test_helm_merge_maps_disjoint_union():
    assert effective(ANOTHER_FLAT, ANOTHER_NESTED) == {
        "testing": "fun", "foo": "bar", "baz": {"cool": "things", "awesome": "stuff"}}


# -- Helm's pkg/chart/common/util/coalesce_test.go ---------------------------------
# TestCoalesceValues, top-level chart part (subcharts are not layered by ArgoCD units).
COALESCE_USER = """
top: yup
bottom: null
right: Null
left: NULL
front: ~
back: ""
nested:
  boat: null
global:
  name: Ishmael
  subject: Queequeg
  nested:
    boat: true
"""
COALESCE_CHART = """
back: exists
bottom: exists
front: exists
left: exists
name: moby
nested: {boat: true}
override: bad
right: exists
scope: moby
top: nope
global:
  nested2: {l0: moby}
"""


@pytest.mark.parametrize("helm", [3, 4])
def test_helm_coalesce_values(helm):
    v = effective(COALESCE_USER, chart=COALESCE_CHART, helm=helm)
    assert v["top"] == "yup"
    assert v["back"] == ""
    assert v["name"] == "moby"
    assert v["global"]["name"] == "Ishmael"
    assert v["global"]["subject"] == "Queequeg"
    assert v["global"]["nested2"]["l0"] == "moby"
    assert v["global"]["nested"]["boat"] is True
    for null_key in ("bottom", "right", "left", "front"):
        assert null_key not in v, f"{null_key} should be removed"
    assert "boat" not in v["nested"], "nested boat should be removed"


# TestCoalesceTables
TABLES_DST = """
name: Ishmael
address:
  street: 123 Spouter Inn Ct.
  city: Nantucket
  country: null
details:
  friends: [Tashtego]
boat: pequod
hole: null
"""
TABLES_SRC = """
occupation: whaler
address:
  state: MA
  street: 234 Spouter Inn Ct.
  country: US
details: empty
boat:
  mast: true
hole: black
"""


@pytest.mark.parametrize("helm", [3, 4])
def test_helm_coalesce_tables(helm):
    wrapped_dst = "t:\n" + "\n".join("  " + line for line in TABLES_DST.strip().splitlines())
    wrapped_src = "t:\n" + "\n".join("  " + line for line in TABLES_SRC.strip().splitlines())
    ev = compute(UNIT, layers_of(wrapped_dst, chart=wrapped_src, helm=helm), helm)
    dst = ev.values["t"]
    assert dst["name"] == "Ishmael"
    assert dst["occupation"] == "whaler"
    assert dst["address"]["street"] == "123 Spouter Inn Ct."
    assert dst["address"]["city"] == "Nantucket"
    assert dst["address"]["state"] == "MA"
    assert "country" not in dst["address"]
    assert dst["details"] == {"friends": ["Tashtego"]}
    assert dst["boat"] == "pequod"
    assert "hole" not in dst
    # Helm warns on both table/non-table clashes; we report them as notices.
    assert {c.key_path for c in ev.conflicts} == {("t", "details"), ("t", "boat")}


def test_coalesce_does_not_mutate_cached_documents():
    layers = layers_of("a: {b: null, c: 1}\n", chart="a: {b: 2, d: 3}\n")
    before = json.dumps([layer.document.value for layer in layers], sort_keys=True)
    compute(UNIT, layers, 4)
    assert json.dumps([layer.document.value for layer in layers], sort_keys=True) == before


# -- four-layer corner cases ----------------------------------------------------------
BASE = "replicaCount: 1\nresources: {cpu: 50m, memory: 64Mi}\ntolerations: [{key: a}]\nlabels: {team: core}\n"


def test_architecture_example():
    v = effective("replicaCount: 1\ncpu: 50m\n", "replicaCount: 3\ncpu: 200m\n",
                  "replicaCount: 5\nmemory: 512Mi\n", "cpu: 500m\n")
    assert v == {"replicaCount": 5, "cpu": "500m", "memory": "512Mi"}


def test_null_in_middle_layer_is_kept_then_replaced():
    # Stage 1 keeps null; a later layer may set the key again.
    assert effective(BASE, "resources: null\n")["resources"] is None
    assert effective(BASE, "resources: null\n", "resources: {cpu: 1}\n")["resources"] == {"cpu": 1}


def test_null_in_middle_layer_deletes_chart_default():
    v = effective(BASE, "labels: null\n", chart="labels: {app: billing}\nport: 80\n")
    assert "labels" not in v
    assert v["port"] == 80


def test_empty_map_changes_nothing_and_empty_list_replaces():
    v = effective(BASE, "resources: {}\ntolerations: []\n")
    assert v["resources"] == {"cpu": "50m", "memory": "64Mi"}
    assert v["tolerations"] == []


def test_lists_are_replaced_not_merged():
    assert effective(BASE, "tolerations: [{key: b}]\n")["tolerations"] == [{"key": "b"}]


def test_type_conflicts_later_file_wins_and_chart_keeps_user_value():
    ev = compute(UNIT, layers_of(BASE, "resources: small\n", chart="resources: {cpu: 10m}\n"), 4)
    assert ev.values["resources"] == "small"
    kinds = [c.message for c in ev.conflicts]
    assert any("replaces a map" in m for m in kinds)
    assert any("chart's default is a map" in m for m in kinds)


def test_multi_document_values_helm3_first_only_helm4_all():
    text = "replicaCount: 2\n---\nreplicaCount: 7\nextra: true\n"
    assert effective(BASE, text, helm=3)["replicaCount"] == 2
    assert "extra" not in effective(BASE, text, helm=3)
    assert effective(BASE, text, helm=4)["replicaCount"] == 7
    assert effective(BASE, text, helm=4)["extra"] is True


def test_nested_null_without_chart_default_is_kept_by_helm_3_21_and_4_2():
    # coalesceTablesFullKey (srcOriginalNonNil) is the same in Helm 3.21.4 and 4.2.4
    user = "a:\n  keep: 1\n  gone: null\n"
    chart = "a:\n  other: 2\n"
    assert effective(user, chart=chart, helm=3)["a"] == {"keep": 1, "gone": None, "other": 2}
    assert effective(user, chart=chart, helm=4)["a"] == {"keep": 1, "gone": None, "other": 2}


def test_chart_defaults_fill_missing_keys_with_provenance():
    ev = compute(UNIT, layers_of("a: {b: 1}\n", chart="a:\n  b: 0\n  c: 2\n"), 4)
    assert ev.values == {"a": {"b": 1, "c": 2}}
    origin = ev.origin(("a", "c"))
    assert origin is not None
    assert (origin.repo, origin.path, origin.line) == (INFRA, "products/billing/values.yaml", 3)
    origin = ev.origin(("a", "b"))
    assert origin is not None and origin.path == "f0.yaml" and origin.line == 1


def test_provenance_points_at_the_layer_and_line_that_set_each_leaf():
    ev = compute(UNIT, layers_of(BASE, "resources:\n  cpu: 200m\n", "x: 1\n", "resources:\n\n  memory: 1Gi\n"), 4)
    cpu, mem, rc = ev.origin(("resources", "cpu")), ev.origin(("resources", "memory")), ev.origin(("replicaCount",))
    assert (cpu.path, cpu.line) == ("f1.yaml", 2)
    assert (mem.path, mem.line) == ("f3.yaml", 3)
    assert (rc.path, rc.line) == ("f0.yaml", 1)
    # A list item points at its own line in the file that set the list.
    item = ev.origin(("tolerations", 0, "key"))
    assert (item.path, item.line) == ("f0.yaml", 3)


# -- the `values` command on a real repository ---------------------------------------
def _repo(tmp_path):
    configs = init_repo(tmp_path / "configs", {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products:\n  - name: billing\n",
        "products/billing/base-values.yaml": "replicaCount: 1\nimage: {tag: '1.0'}\nlabels: {a: b}\n",
        "products/billing/environments/prod.yaml": "replicaCount: 3\nlabels: null\n",
        "customers/acme/billing/values.yaml": "replicaCount: 5\nmemory: 512Mi\n",
        "customers/acme/billing/environments/prod.yaml": "image:\n  tag: '1.1'\n",
    })
    infra = init_repo(tmp_path / "infra", {
        "products/billing/Chart.yaml": "apiVersion: v2\nname: billing\nversion: 1.0.0\n",
        "products/billing/values.yaml": "replicaCount: 1\nlabels: {team: core}\nport: 8080\n",
    })
    return configs, infra


def test_values_command_json_is_exactly_the_values(tmp_path):
    configs, infra = _repo(tmp_path)
    proc = run_cli("values", "acme", "billing", "prod", "--configs", configs, "--infra", infra, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"replicaCount": 5, "image": {"tag": "1.1"}, "memory": "512Mi", "port": 8080}


def test_values_command_explain_names_file_and_line(tmp_path):
    configs, infra = _repo(tmp_path)
    proc = run_cli("values", "acme", "billing", "prod", "--configs", configs, "--infra", infra, "--explain")
    assert proc.returncode == 0, proc.stderr
    assert "# replicaCount: customer-configs/customers/acme/billing/values.yaml:1 (customer product)" in proc.stdout
    assert "# image.tag: customer-configs/customers/acme/billing/environments/prod.yaml:2" in proc.stdout
    assert "# port: platform-infrastructure/products/billing/values.yaml:3 (chart defaults)" in proc.stdout


def test_values_command_at_a_revision(tmp_path):
    configs, _infra = _repo(tmp_path)
    (configs / "customers/acme/billing/values.yaml").write_text("replicaCount: 9\n")
    proc = run_cli("values", "acme", "billing", "prod", "--configs", configs, "--rev", "HEAD", "--format", "json")
    assert json.loads(proc.stdout)["replicaCount"] == 5
    proc = run_cli("values", "acme", "billing", "prod", "--configs", configs, "--format", "json")
    assert json.loads(proc.stdout)["replicaCount"] == 9


def test_values_command_refuses_unsafe_names(tmp_path):
    configs, _ = _repo(tmp_path)
    proc = run_cli("values", "../acme", "billing", "prod", "--configs", configs)
    assert proc.returncode == 2
    assert "DNS-1123" in proc.stderr and "Traceback" not in proc.stderr


# -- the values alone (no provenance) are what the computation with provenance gives ----------
_KEYS = ["a", "b", "c", "d"]
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", ""]),
                     st.lists(st.integers(0, 2), max_size=2))
_trees = st.recursive(_scalars, lambda inner: st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
                      max_leaves=12)
_maps = st.dictionaries(st.sampled_from(_KEYS), _trees, max_size=4)


def _layers_from(chart: list[dict], files: list[dict]) -> list[Layer]:
    layers = [Layer("chart defaults", INFRA, "products/billing/values.yaml", YamlDocument(doc), i)
              for i, doc in enumerate(chart)]
    paths = ["products/billing/base-values.yaml", "products/billing/environments/prod.yaml",
             "customers/acme/billing/values.yaml", "customers/acme/billing/environments/prod.yaml"]
    return layers + [Layer(f"layer {i}", CONFIGS, paths[i], YamlDocument(doc)) for i, doc in enumerate(files)]


def _ordered(value):
    """The value with every map's key order made visible (== ignores it)."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    return value


@settings(max_examples=400, deadline=None)
@given(chart=st.lists(_maps, max_size=2), files=st.lists(_maps, min_size=1, max_size=4), helm=st.sampled_from([3, 4]),
       with_memo=st.booleans())
def test_values_without_provenance_equal_the_values_with_it(chart, files, helm, with_memo):
    layers = _layers_from(chart, files)
    before = json.dumps([_ordered(layer.document.value) for layer in layers])
    full = _compute_with_provenance(UNIT, layers, helm)
    memo: dict = {}
    for _ in range(2 if with_memo else 1):  # the second time from the memo
        ev = compute(UNIT, layers, helm, memo if with_memo else None)
        assert _ordered(ev.values) == _ordered(full.values)
        assert ev.conflicts == full.conflicts
        assert ev.provenance == full.provenance
    assert json.dumps([_ordered(layer.document.value) for layer in layers]) == before  # nothing mutated
