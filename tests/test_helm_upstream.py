"""Helm's coalesce tests for the null cases that differ between versions, ported: Helm 4.2.4
(`pkg/chart/common/util/coalesce_test.go`) and Helm 3.21.4 (`pkg/chartutil/coalesce_test.go`).
Upstream runs some of them on a subchart; the same coalesceValues / coalesceTablesFullKey
code runs for the top-level chart, which is what a product chart is here, so each case is
ported onto the top-level chart (subcharts and globals are not layered by this suite)."""

from __future__ import annotations

import pytest
from test_values import effective


@pytest.mark.parametrize("helm", [3, 4])
def test_empty_map_default_keeps_user_nils(helm):
    # coalesce_test.go TestCoalesceValuesEmptyMapWithNils (both versions)
    v = effective("data:\n  foo: bar\n  baz: null\n", chart="data: {}\n", helm=helm)
    assert v["data"] == {"foo": "bar", "baz": None}


@pytest.mark.parametrize(("helm", "expected"), [
    # Helm 4.2.4 TestCoalesceValuesSubchartDefaultNilsCleaned: a chart-default null never appears
    (4, {"keyMapping": {}}),
    # Helm 3.21.4 coalesceValues copies the chart's map as it is, null included
    (3, {"keyMapping": {"password": None}}),
])
def test_chart_default_nils(helm, expected):
    v = effective("other: 1\n", chart="keyMapping:\n  password: null\n", helm=helm)
    assert {k: v[k] for k in expected} == expected


@pytest.mark.parametrize(("helm", "expected"), [
    # Helm 4.2.4 TestCoalesceValuesSubchartNilCleanedWhenUserPartiallyOverrides
    (4, {"format": "sha256"}),
    # Helm 3.21.4: the chart's null is copied into the user's map
    (3, {"format": "sha256", "password": None}),
])
def test_chart_default_nils_when_user_partially_overrides(helm, expected):
    v = effective("keyMapping:\n  format: sha256\n", chart="keyMapping:\n  password: null\n  format: bcrypt\n",
                  helm=helm)
    assert v["keyMapping"] == expected


@pytest.mark.parametrize("helm", [3, 4])
def test_user_null_erases_chart_default(helm):
    # coalesce_test.go TestCoalesceValuesUserNullErasesSubchartDefault (top-level and nested)
    v = effective("someKey: null\nnested:\n  k: null\n", chart="someKey: default\nnested:\n  k: v\n  j: w\n",
                  helm=helm)
    assert "someKey" not in v
    assert v["nested"] == {"j": "w"}


@pytest.mark.parametrize("helm", [3, 4])
def test_top_level_null_default_not_copied_in_helm_4(helm):
    # Helm 4.2.4 coalesceValues: `if val == nil { continue }` for a key the user does not set
    v = effective("a: 1\n", chart="password: null\n", helm=helm)
    assert ("password" in v) is (helm == 3)
