"""Property tests (hypothesis): layering against a literal reading of Helm's Go code, diff laws,
and random bytes into the YAML entry point."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checks.diffing.values_diff import diff_values
from checks.model.platform import CONFIGS, INFRA, Unit
from checks.model.values import Layer, compute
from checks.repo.documents import Limits, YamlDocument, decode_text, parse_yaml_text

KEYS = st.sampled_from(["a", "b", "c", "image", "tag", "replicas"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", ""]))
TREES = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                     st.dictionaries(KEYS, kids, max_size=4)), max_leaves=12)
MAPS = st.dictionaries(KEYS, TREES, max_size=4)
UNIT = Unit("c", "p", "e")


# -- a literal reading of helm's Go code (pkg/cli/values/options.go; pkg/chart/common/util/coalesce.go at
# v4.2.4 and pkg/chartutil/coalesce.go at v3.21.4) --
def ref_merge_maps(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = ref_merge_maps(out[k], v)
            continue
        out[k] = v
    return out


def ref_coalesce_tables(dst: dict, src: dict, helm: int) -> dict:
    src = dict(src)
    src_non_nil = {k for k, v in src.items() if v is not None}
    for k, v in list(dst.items()):
        if v is None:
            src[k] = None
    for key, val in src.items():
        if key in dst:
            dv = dst[key]
            if dv is None and key in src_non_nil:
                del dst[key]
            elif isinstance(val, dict) and isinstance(dv, dict):
                ref_coalesce_tables(dv, val, helm)
        else:
            dst[key] = val
    return dst


def ref_clean_nil_values(m: dict) -> None:
    for key, val in list(m.items()):
        if val is None:
            del m[key]
        elif isinstance(val, dict):
            ref_clean_nil_values(val)


def ref_coalesce_values(v: dict, chart: dict, helm: int) -> dict:
    for key, val in copy.deepcopy(chart).items():
        if key in v:
            value = v[key]
            if value is None:
                del v[key]
            elif isinstance(value, dict) and isinstance(val, dict):
                if helm == 4:
                    ref_clean_nil_values(val)
                ref_coalesce_tables(value, val, helm)
        else:
            if helm == 4:
                if val is None:
                    continue
                if isinstance(val, dict):
                    ref_clean_nil_values(val)
            v[key] = val
    return v


def layers(*values: dict, chart: dict | None = None) -> list[Layer]:
    out = []
    if chart is not None:
        out.append(Layer("chart", INFRA, "chart.yaml", YamlDocument(chart)))
    out += [Layer(f"l{i}", CONFIGS, f"f{i}.yaml", YamlDocument(v)) for i, v in enumerate(values)]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(MAPS, min_size=1, max_size=4))
def test_value_files_merge_like_helm(files):
    expected: dict = {}
    for f in files:
        expected = ref_merge_maps(expected, f)
    assert compute(UNIT, layers(*files), 4).values == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(MAPS, min_size=1, max_size=3), MAPS, st.sampled_from([3, 4]))
def test_chart_defaults_coalesce_like_helm(files, chart, helm):
    before = copy.deepcopy(files), copy.deepcopy(chart)
    merged: dict = {}
    for f in files:
        merged = ref_merge_maps(merged, f)
    expected = ref_coalesce_values(copy.deepcopy(merged), chart, helm)
    assert compute(UNIT, layers(*files, chart=chart), helm).values == expected
    assert (files, chart) == before  # inputs (cached documents) never mutated


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_diff_of_a_tree_with_itself_is_empty(tree):
    assert diff_values(tree, copy.deepcopy(tree)) == []


@settings(max_examples=300, deadline=None)
@given(MAPS, MAPS)
def test_diffs_are_symmetric(a, b):
    forward = {(c.path, c.kind, _key(c.before), _key(c.after)) for c in diff_values(a, b)}
    swap = {"added": "removed", "removed": "added", "changed": "changed", "type": "type"}
    backward = {(c.path, swap[c.kind], _key(c.after), _key(c.before)) for c in diff_values(b, a)}
    assert forward == backward


def _key(value: Any) -> str:
    return repr(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list("abcdefgh")), SCALARS), min_size=1, max_size=6,
                unique_by=lambda t: t[0]), st.randoms(use_true_random=False))
def test_identity_matching_is_order_independent(items, rnd):
    before = [{"name": n, "value": v} for n, v in items]
    after = list(before)
    rnd.shuffle(after)
    assert diff_values({"env": before}, {"env": after}) == []


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    text, _problem = decode_text(data)
    if text is not None:
        parse_yaml_text(text, Limits(max_nodes=5000, max_depth=50))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*list("ab:-[]{}&*!|>'\"#\n \t,?%@`"), "x", "1"]), max_size=120))
def test_yaml_shaped_noise_never_raises(text):
    parse_yaml_text(text, Limits(max_nodes=5000, max_depth=50))
