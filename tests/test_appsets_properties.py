"""No input crashes the ApplicationSet emulator: random generator trees, templates and parameters
give Applications, or an error / not-evaluated problem about that ApplicationSet -- never an
exception (issue 16: an evaluation error is a finding about that ApplicationSet only)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from helpers import write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.engines.appsets import AppSet, Emulator, default_repo_for_url
from checks.engines.gotemplate import NotEvaluated, TemplateError, render, render_legacy
from checks.model.platform import CONFIGS
from checks.repo.documents import DocumentStore, Limits, YamlDocument
from checks.repo.source import WorkingTreeSource

FILES = {"customers/acme/billing/values.yaml": "replicas: 2\ntier: gold\n",
         "customers/beta/search/values.yaml": "", "customers/beta/search/config.json": "{\"a\": [1, {\"b\": null}]}",
         "customers/broken/x/values.yaml": "a: [\n", "top.yaml": "- a: 1\n- b: two\n", "list.yaml": "just text\n"}

PIECES = ["{{", "}}", "{{-", "-}}", " ", ".", ".path", ".path.basename", ".env", "$", "$x", ":=", "=", "|", "(", ")",
          "index", "if", "else", "end", "range", "with", "break", "\"s\"", "`r`", "'c'", "1", "-2", "3.5", "0x1F",
          "printf", "\"%s\"", "toJson", "toYaml", "fromYaml", "default", "nil", "true", "eq", "len", "slice",
          "upper", "dig", "get", "/*", "*/", "path.basename", "path[1]", "values.x", "normalize", "now", "define",
          "template", "{{ .path.segments }}", "\\", "\n", "é", "x"]
templates = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=6), templates)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["env", "path", "x", "name", "values", "a"]),
                                                 inner, max_size=3)), max_leaves=10)

list_gen = st.builds(lambda els, y: {"list": {"elements": els, **({"elementsYaml": y} if y is not None else {})}},
                     st.lists(values, max_size=3), st.one_of(st.none(), templates, st.just("- a: 1\n")))
git_gen = st.builds(lambda pats, kind, vals, prefix: {"git": {
    "repoURL": st_repo, kind: [{"path": p, **({"exclude": True} if i == 1 else {})} for i, p in enumerate(pats)],
    **({"values": vals} if vals else {}), **({"pathParamPrefix": prefix} if prefix else {})}},
    st.lists(st.sampled_from(["customers/*/*/values.yaml", "*", "customers/*", "**", "[", "*.json", "{{ .x }}",
                              "customers/*/*/*.json", "top.yaml", "list.yaml", "customers/broken/*/*"]), max_size=3),
    st.sampled_from(["files", "directories"]), st.one_of(st.none(), st.dictionaries(st.text(max_size=3), templates,
                                                                                    max_size=2)),
    st.sampled_from(["", "p", "{{x}}"]))
st_repo = "https://example.com/customer-configs.git"
selectors = st.one_of(st.none(), st.just({}),
                      st.builds(lambda k, v: {"matchLabels": {k: v}},
                                st.sampled_from(["env", "path.basename", "bad key!"]), scalars),
                      st.just({"matchExpressions": [{"key": "x", "operator": "Bogus"}]}))


def _with_selector(gen: dict, sel) -> dict:
    return {**gen, **({"selector": sel} if sel is not None else {})}


generators = st.recursive(
    st.one_of(list_gen, git_gen, st.just({"clusters": {}}), st.just({}), st.just({"list": None}), values),
    lambda inner: st.one_of(
        st.builds(lambda gs: {"matrix": {"generators": gs}}, st.lists(inner, max_size=3)),
        st.builds(lambda gs, keys: {"merge": {"generators": gs, "mergeKeys": keys}}, st.lists(inner, max_size=3),
                  st.one_of(st.none(), st.lists(st.sampled_from(["env", "a", "path"]), max_size=2))),
        st.builds(_with_selector, inner.filter(lambda g: isinstance(g, dict)), selectors)),
    max_leaves=5)

template_trees = st.fixed_dictionaries({
    "metadata": st.fixed_dictionaries({"name": templates}, optional={"labels": st.dictionaries(templates, templates,
                                                                                                max_size=2)}),
    "spec": st.fixed_dictionaries({}, optional={
        "source": st.fixed_dictionaries({"repoURL": templates, "path": templates},
                                        optional={"helm": st.fixed_dictionaries({"valueFiles": st.lists(templates,
                                                                                                        max_size=2)})}),
        "destination": st.fixed_dictionaries({"namespace": templates}), "project": scalars})})


_STORE: dict[str, DocumentStore] = {}


def _store(tmp: Path) -> DocumentStore:
    if "s" not in _STORE:
        write_tree(tmp, FILES)
        _STORE["s"] = DocumentStore({CONFIGS: WorkingTreeSource(tmp, CONFIGS)}, Limits())
    return _STORE["s"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(gens=st.lists(generators, max_size=3), template=template_trees, go=st.booleans(),
       options=st.sampled_from([None, ["missingkey=error"], ["missingkey=zero"], ["bogus"], "text"]),
       patch=st.one_of(st.none(), templates))
def test_generation_never_raises(tmp_path_factory, gens, template, go, options, patch):
    root = tmp_path_factory.getbasetemp() / "appset-props"
    store = _store(root)
    spec = {"goTemplate": go, "generators": gens, "template": template,
            **({"goTemplateOptions": options} if options is not None else {}),
            **({"templatePatch": patch} if patch is not None else {})}
    appset = AppSet("platform-infrastructure", "a.yaml", YamlDocument({"kind": "ApplicationSet", "spec": spec}), 0)
    gen = Emulator(store, default_repo_for_url({})).generate(appset)
    # an ArgoCD failure leaves no Applications, and says so
    if gen.error is not None:
        assert gen.apps == [] and not gen.complete and gen.error in gen.problems
    for app in gen.apps:
        assert isinstance(app.name, str) and isinstance(app.manifest, dict)


@settings(max_examples=500, deadline=None)
@given(template=templates, params=st.dictionaries(st.sampled_from(["env", "path", "x", "n", "values"]), values,
                                                  max_size=4), strict=st.sampled_from([False, True, 1]))
def test_render_raises_only_template_errors(template, params, strict):
    try:
        out = render(template, params, strict)
        assert isinstance(out, str)
    except (TemplateError, NotEvaluated):
        pass
    flat = {k: v for k, v in params.items() if isinstance(v, str)}
    with contextlib.suppress(TemplateError):
        assert isinstance(render_legacy(template, flat), str)


# Plain templates (text, field chains, `index` with constants) take a short path; it must give
# what the general machinery gives -- the same text, or the same error -- for any parameters.
_plain_actions = st.sampled_from(["{{ .path.path }}", "{{.env}}", "{{ index .path.segments 1 }}", "{{ .x }}",
                                  "{{ index .values \"k\" }}", "{{ index .path.segments 0 2 }}", "{{ index .n -1 }}",
                                  "{{ .path.basename }}", "{{ .values.k }}", "{{ index .path 0 }}"])
plain_templates = st.lists(st.one_of(_plain_actions, st.sampled_from(["a-", "/", "", "é"])), max_size=5).map("".join)
plain_params = st.dictionaries(
    st.sampled_from(["env", "path", "x", "n", "values"]),
    st.one_of(values, st.fixed_dictionaries({}, optional={
        "path": st.text(max_size=3), "basename": st.one_of(st.text(max_size=3), st.integers()),
        "segments": st.lists(st.one_of(st.text(max_size=3), st.integers(), st.lists(st.text(max_size=2))),
                             max_size=3),
        "k": st.one_of(st.text(max_size=3), st.none(), st.floats())})),
    max_size=5)


def _outcome(template, params, strict):
    try:
        return ("ok", render(template, params, strict))
    except (TemplateError, NotEvaluated) as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=500, deadline=None)
@given(template=plain_templates, params=plain_params, strict=st.sampled_from([False, True, 1]))
def test_plain_templates_render_as_the_general_machinery_does(template, params, strict):
    from checks.engines import gotemplate
    fast = _outcome(template, params, strict)
    original = gotemplate._render_plain
    gotemplate._render_plain = lambda plan, params: None  # every template through the general machinery
    try:
        assert _outcome(template, params, strict) == fast
    finally:
        gotemplate._render_plain = original
