"""What the run computes for the policies instead of Regorus must equal what the policies compute
themselves: the workload candidates (policies/workloads.rego's walk()), the workload paths (the
candidates less those switched off), and the result rules the batch asks for (instead of every
rule of the package)."""

from __future__ import annotations

import json
from pathlib import Path

import regorus
from helpers import ROOT, write_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.engines.rego import RegorusEngine, load_policies
from checks.rules.policy_checks import workload_candidates, workload_maps

KEYS = st.sampled_from(["replicaCount", "replicas", "resources", "resourcesPreset", "global", "primary",
                        "enabled", "image", "autoscaling", "x", "1"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "latest", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=25)


def _walk_engine() -> regorus.Engine:
    engine = regorus.Engine()
    engine.add_policy("workloads.rego", (ROOT / "policies" / "workloads.rego").read_text())
    return engine


ENGINE = _walk_engine()


def _rego_candidates(values: dict) -> list[list]:
    ENGINE.set_input_json(json.dumps({"values": values}))
    raw = json.loads(ENGINE.eval_query_as_json("data.main.workload_candidates"))
    return sorted(raw["result"][0]["expressions"][0]["value"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_python_candidates_equal_the_policys_walk(values: dict):
    assert sorted(workload_candidates(values)) == _rego_candidates(values)


# switches: `enabled: false` anywhere above or at a workload, Bitnami's standalone architecture
SWITCH_KEYS = st.sampled_from(["replicaCount", "resources", "enabled", "architecture", "readReplicas", "replica",
                               "primary", "global", "metrics", "x"])
SWITCH_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.sampled_from(["standalone", "false", ""]))
SWITCH_VALUES = st.recursive(SWITCH_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=2), st.dictionaries(SWITCH_KEYS, inner, max_size=4)), max_leaves=25)


def _rego_workload_paths(values: dict) -> list[list]:
    ENGINE.set_input_json(json.dumps({"values": values}))
    raw = json.loads(ENGINE.eval_query_as_json("data.main.workload_paths"))
    return sorted(raw["result"][0]["expressions"][0]["value"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(SWITCH_KEYS, SWITCH_VALUES, max_size=5))
def test_python_workload_paths_equal_the_policys(values: dict):
    candidates, paths = workload_maps(values)
    assert sorted(candidates) == sorted(workload_candidates(values))
    assert sorted(paths) == _rego_workload_paths(values)
    # given with the input, the policy takes them as they are
    ENGINE.set_input_json(json.dumps({"values": {}, "workload_paths": paths, "workload_candidates": []}))
    given = json.loads(ENGINE.eval_query_as_json("data.main.workload_paths"))["result"][0]["expressions"][0]["value"]
    assert sorted(given) == sorted(paths)


def test_workload_paths_of_switched_off_workloads():
    values = {"architecture": "standalone", "primary": {"resources": {}}, "readReplicas": {"replicaCount": 1},
              "metrics": {"enabled": False, "sidecar": {"resources": {}}}, "server": {"enabled": True, "replicas": 1},
              "off": {"enabled": False, "replicas": 1}}
    candidates, paths = workload_maps(values)
    assert sorted(candidates) == [["metrics", "sidecar"], ["off"], ["primary"], ["readReplicas"], ["server"]]
    assert sorted(paths) == [["primary"], ["server"]] == _rego_workload_paths(values)


def test_candidates_of_a_real_chart_shape():
    values = {"global": {"resources": {}}, "primary": {"resources": {}, "sidecars": [{"resources": {}}]},
              "readReplicas": {"replicaCount": 1}, "replicaCount": 2, 1: {"replicas": 3}}
    assert sorted(workload_candidates(values)) == [[], ["1"], ["primary"], ["readReplicas"]]
    as_json = json.loads(json.dumps(values))
    assert sorted(workload_candidates(as_json)) == _rego_candidates(as_json)


def test_precomputed_candidates_give_the_same_findings():
    engine = RegorusEngine(load_policies([("policies", ROOT / "policies")]))
    inputs = []
    for i in range(30):
        values = {"primary": {"replicaCount": i % 3, "image": {"tag": "latest" if i % 4 == 0 else "1"},
                              "resources": {"requests": {"cpu": "1"}} if i % 2 else {}},
                  "metrics": {"enabled": i % 5 != 0, "resources": {}}, "global": {"replicas": 1},
                  "architecture": "standalone" if i % 7 == 0 else "replication", "readReplicas": {"replicas": 1}}
        inputs.append({"customer": {"id": f"c{i}", "tier": "gold"}, "product": "p",
                       "environment": ("prod", "dev")[i % 2], "values": values})
    walked = engine.evaluate(inputs)
    given_inputs = [{**d, "workload_candidates": workload_candidates(d["values"])} for d in inputs]
    assert engine.evaluate(given_inputs) == walked
    both = [{**d, **dict(zip(("workload_candidates", "workload_paths"), workload_maps(d["values"]), strict=True))}
            for d in inputs]
    assert engine.evaluate(both) == walked
    assert sum(len(r) for r in walked) > 30  # the rules really fired


def test_result_rules_only_equal_the_whole_package(tmp_path: Path):
    team = tmp_path / "team"
    write_tree(team, {
        # a default rule, a complete rule that may be undefined, an exception, a helper and a function
        "a.rego": "package team.a\nimport rego.v1\n\ndefault warn_flag := false\nwarn_flag if input.values.flag\n"
                  "deny_big := \"big\" if input.values.n > 2\nhelper contains x if some x in input.values.list\n"
                  "deny_list contains sprintf(\"item %v\", [x]) if some x in helper\n"
                  "deny_fn(x) := x\nexception contains [\"list\"] if input.values.n == 5\n",
        # a dotted result rule head: this package is evaluated whole
        "b.rego": "package team.b\nimport rego.v1\n\ndeny.odd := \"odd\" if input.values.n % 2 == 1\n",
    })
    engine = RegorusEngine(load_policies([("team", team)]))
    assert engine._rules == {"team.a": ["deny_big", "deny_list", "exception", "warn_flag"]}
    # `contains` rules are asked for as they are (never undefined); the others through a comprehension
    assert engine._sets == {("team.a", "deny_list"), ("team.a", "exception")}
    (team / "b.rego").unlink()
    engine = RegorusEngine(load_policies([("team", team)]))
    inputs = [{"values": {"n": n, "flag": n % 2 == 0, "list": list(range(n))}} for n in range(7)]
    batched = engine.evaluate(inputs)
    assert batched == [engine.evaluate_one(d) for d in inputs]
    rules = {r.rule for results in batched for r in results}
    assert {"deny_big", "deny_list", "warn_flag"} <= rules
    assert not any(r.rule == "deny_list" for r in batched[5])  # excepted
