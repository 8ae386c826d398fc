"""An Application read from its template's rendered strings (engines/app_templates.py) is the one the
rendered tree gives: the same name, namespace, sources and value files, the same rendered values at
any key path, the same strings in the same order -- for ArgoCD's example ApplicationSets and a real
control-plane template (tests/data/applicationsets, SOURCES.tsv), the bundled examples in a real git
repository, and random templates. And what the checks share per Application (resolved value files,
equal sources one object) equals what each check used to work out again."""

from __future__ import annotations

import contextlib
from pathlib import Path

from helpers import DATA, examples_in_git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_appsets_properties import plain_params, plain_templates, templates, values

from checks.engines import gotemplate
from checks.engines.app_templates import TemplatePlan
from checks.engines.appsets import (
    AppSet,
    Emulator,
    GeneratedApp,
    application_manifest,
    default_repo_for_url,
    is_appset,
    load_appsets,
    resolve_value_file,
)
from checks.engines.gotemplate import MISSING_ERROR, NotEvaluated, TemplateError, render, tree_renderer
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore, Limits, parse_yaml_text
from checks.repo.source import GitSource, WorkingTreeSource
from checks.rules.application_checks import auto_synced

APPSETS = DATA / "applicationsets"


def _paths(value, path=()):
    """Every key path in a tree, containers included."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _get(value, path):
    for part in path:
        if (isinstance(value, dict) and part in value) or (
                isinstance(value, list) and type(part) is int and 0 <= part < len(value)):
            value = value[part]
        else:
            return None
    return value


def _same_as_tree(emulator: Emulator, app: GeneratedApp) -> None:
    """The Application read from strings equals the one `_application` reads from the whole rendered tree."""
    plan = app.rendering
    tree = plan.rendered(app.rendered)
    whole = emulator._application(app.appset, plan, tree, list(app.rendered) if app.rendered else None, app.params)
    assert (app.name, app.namespace, app.single_source) == (whole.name, whole.namespace, whole.single_source)
    assert app.sources == whole.sources
    assert app.value_paths == whole.value_paths
    assert app.manifest == application_manifest(tree, app.appset.namespace)
    assert app.metadata == app.manifest["metadata"]
    for path in _paths(tree):
        assert app.value_at(path) == _get(tree, path), path
    assert app.value_at(("no", "such", 3)) is None
    for (source, _, entry), where in zip(app.value_files, app.value_paths, strict=True):
        assert where == resolve_value_file(app, source, entry)


def _rendered_in_order(template) -> list[str]:
    """The strings tree_renderer hands its string renderer, in its order."""
    seen: list[str] = []
    renderer = tree_renderer(template)
    if renderer is not None:
        renderer(lambda s: seen.append(s) or s)
    return seen


def _corpus_appsets():
    for path in sorted(APPSETS.rglob("*.yaml")):
        docs, _ = parse_yaml_text(path.read_text(), Limits())
        for i, doc in enumerate(docs):
            if is_appset(doc.value):
                yield AppSet(INFRA, path.name, doc, i)


def test_corpus_applications_read_from_strings_equal_the_rendered_trees():
    # ArgoCD's own examples (argoproj/argo-cd applicationset/examples) and a real control-plane template
    # (customer-configs stands in for the argo-cd repository the examples' git generators read)
    store = DocumentStore({CONFIGS: WorkingTreeSource(APPSETS / "argoproj_argo-cd", CONFIGS)}, Limits())
    checked = 0
    for appset in _corpus_appsets():
        emulator = Emulator(store, default_repo_for_url({"https://github.com/argoproj/argo-cd.git": CONFIGS}))
        for app in emulator.generate(appset).apps:
            _same_as_tree(emulator, app)
            checked += 1
    assert checked >= 15  # the rest use cluster, SCM or plugin generators: not evaluated


def test_corpus_templates_keep_the_renderers_order():
    for appset in _corpus_appsets():
        template = appset.spec.get("template")
        if not isinstance(template, dict):
            continue
        plan = TemplatePlan(template)
        seen = _rendered_in_order(template)
        if plan.strings is not None:  # no templated map key
            assert list(plan.strings) == seen
            assert plan.templated == bool(seen)


def test_bundled_examples_in_git_share_what_every_check_reads(tmp_path: Path):
    configs, infra = examples_in_git(tmp_path)
    sources = {CONFIGS: GitSource(configs, CONFIGS, "HEAD"), INFRA: GitSource(infra, INFRA, "HEAD")}
    store = DocumentStore(sources, Limits())
    emulator = Emulator(store, default_repo_for_url({}))
    appsets = load_appsets(store, sorted(p for p in sources[INFRA].files() if p.startswith("applicationsets/")))
    assert len(appsets) == 5
    apps = [app for appset in appsets for app in emulator.generate(appset).apps]
    assert len(apps) > 20
    pairs: dict[tuple, tuple] = {}
    ref_sources = set()
    for app in apps:
        _same_as_tree(emulator, app)
        assert auto_synced(app) == _auto_synced_manifest(app.manifest)
        for pair in app.value_paths:  # equal (repo, path) pairs one object
            assert pairs.setdefault(pair, pair) is pair
        ref_sources.update(id(s) for s in app.sources if s.ref == "values")
    # the untemplated `ref: values` source of each ApplicationSet, one object for all its Applications
    assert 1 <= len(ref_sources) <= len(appsets)
    assert any(auto_synced(app) for app in apps) and not all(auto_synced(app) for app in apps)


def _auto_synced_manifest(manifest: dict) -> bool:
    """appset/prod-auto-sync's reading of a whole manifest, before it read spec.syncPolicy alone."""
    found = manifest.get("spec")
    spec = found if isinstance(found, dict) else {}
    found = spec.get("syncPolicy")
    policy = found if isinstance(found, dict) else {}
    automated = policy.get("automated")
    if automated is None:
        return False
    return not (isinstance(automated, dict) and automated.get("enabled") is False)


# random templates: with templated map keys (rendered whole) and without (read from strings)
trees = st.recursive(st.one_of(templates, st.none(), st.booleans(), st.integers(-3, 3)), lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["metadata", "name", "spec", "source", "sources", "helm", "valueFiles",
                                               "repoURL", "path", "ref", "chart", "destination", "namespace",
                                               "syncPolicy", "labels"]), templates), inner, max_size=4)),
    max_leaves=14)
app_templates = st.fixed_dictionaries({}, optional={
    "metadata": st.one_of(trees, st.fixed_dictionaries({"name": templates}, optional={"labels": trees})),
    "spec": st.one_of(trees, st.fixed_dictionaries({}, optional={
        "sources": st.lists(st.one_of(trees, st.fixed_dictionaries({"repoURL": templates}, optional={
            "path": trees, "ref": trees, "chart": trees, "targetRevision": trees,
            "helm": st.fixed_dictionaries({}, optional={"valueFiles": st.one_of(trees, st.lists(trees, max_size=3)),
                                                        "ignoreMissingValueFiles": trees})})), max_size=3),
        "source": trees, "destination": trees, "syncPolicy": trees}))})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=app_templates, params=st.dictionaries(st.sampled_from(["env", "path", "x", "name", "values"]), values,
                                                      min_size=1, max_size=4), go=st.booleans())
def test_random_templates_read_from_strings_equal_the_rendered_trees(template, params, go):
    appset = AppSet(INFRA, "a.yaml", _doc({"kind": "ApplicationSet", "metadata": {"namespace": "argocd"},
                                           "spec": {"goTemplate": go, "template": template}}), 0)
    emulator = Emulator(DocumentStore({}, Limits()), default_repo_for_url({}))
    try:
        app = emulator._render(appset, template, params, 0)
    except (TemplateError, NotEvaluated, RecursionError):
        return
    _same_as_tree(emulator, app)
    if app.rendering.strings is not None:
        assert list(app.rendering.strings) == _rendered_in_order(template)


def _doc(value):
    from checks.repo.documents import YamlDocument
    return YamlDocument(value)


def _each(strings, params, mode):
    """Each string through gotemplate.render, the general machinery only: its texts, or its first error."""
    original = gotemplate._render_plain
    gotemplate._render_plain = lambda plan, params: None
    try:
        return ("ok", [render(s, params, mode) for s in strings])
    except (TemplateError, NotEvaluated) as exc:
        return (type(exc).__name__, str(exc))
    finally:
        gotemplate._render_plain = original


@settings(max_examples=500, deadline=None)
@given(strings=st.lists(st.one_of(plain_templates, templates).filter(lambda s: "{{" in s), max_size=5),
       params=plain_params, mode=st.sampled_from([0, 1, MISSING_ERROR]))
def test_render_go_gives_what_each_string_gives(strings, params, mode):
    # lookups shared by the strings of one Application, done once: the same texts, or the same first error
    plan = TemplatePlan({"s": strings})
    try:
        fast = ("ok", plan.render_go(params, mode, {}))
    except (TemplateError, NotEvaluated) as exc:
        fast = (type(exc).__name__, str(exc))
    with contextlib.suppress(RecursionError):
        assert fast == _each(strings, params, mode)


def test_templated_map_keys_render_the_tree_whole(tmp_path: Path):
    template = {"metadata": {"name": "{{.n}}", "labels": {"{{.n}}": "x"}},
                "spec": {"destination": {"namespace": "{{.n}}-ns"}, "syncPolicy": {"automated": {}},
                         "source": {"repoURL": "u", "path": "products/{{.n}}", "helm": {"valueFiles": ["v.yaml"]}}}}
    plan = TemplatePlan(template)
    assert plan.strings is None and plan.templated
    appset = AppSet(INFRA, "a.yaml", _doc({"kind": "ApplicationSet", "spec": {"goTemplate": True}}), 0)
    emulator = Emulator(DocumentStore({}, Limits()), default_repo_for_url({}))
    app = emulator._render(appset, template, {"n": "acme"}, 0)
    assert app.manifest["metadata"] == {"name": "acme", "labels": {"acme": "x"}}
    assert app.value_at(("metadata", "labels")) == {"acme": "x"}
    assert app.value_paths == ((None, "products/acme/v.yaml"),)
    assert auto_synced(app)
    _same_as_tree(emulator, app)


def test_a_source_with_nothing_templated_is_one_object(tmp_path: Path):
    (tmp_path / "customers" / "a" / "x").mkdir(parents=True)
    (tmp_path / "customers" / "b" / "x").mkdir(parents=True)
    (tmp_path / "customers" / "a" / "x" / "values.yaml").write_text("k: 1\n")
    (tmp_path / "customers" / "b" / "x" / "values.yaml").write_text("k: 2\n")
    store = DocumentStore({CONFIGS: WorkingTreeSource(tmp_path, CONFIGS)}, Limits())
    spec = {"goTemplate": True, "generators": [{"git": {"repoURL": "https://e.com/customer-configs.git",
                                                        "files": [{"path": "customers/*/*/values.yaml"}]}}],
            "template": {"metadata": {"name": "{{ index .path.segments 1 }}"}, "spec": {"sources": [
                {"repoURL": "https://e.com/platform-infrastructure.git", "path": "products/x",
                 "helm": {"valueFiles": ["$values/{{ .path.path }}/values.yaml", "$values/products/x/base.yaml"]}},
                {"repoURL": "https://e.com/customer-configs.git", "ref": "values", "targetRevision": "main"}]}}}
    appset = AppSet(INFRA, "a.yaml", _doc({"kind": "ApplicationSet", "spec": spec}), 0)
    emulator = Emulator(store, default_repo_for_url({}))
    a, b = emulator.generate(appset).apps
    assert (a.name, b.name) == ("a", "b")
    assert a.sources[1] is b.sources[1] and a.sources[0] is not b.sources[0]
    assert a.value_paths == ((CONFIGS, "customers/a/x/values.yaml"), (CONFIGS, "products/x/base.yaml"))
    assert a.value_paths[1] is b.value_paths[1]  # the product's file: one pair for both
    for app in (a, b):
        _same_as_tree(emulator, app)


def test_deployed_units_and_four_layer_files_share_one_value_file_each(tmp_path: Path):
    # the bundled examples in git: every Application's files and every unit's four layers, read once
    from harness import context

    from checks.rules import deployed_units as du

    configs, infra = examples_in_git(tmp_path)
    with context(configs, infra) as ctx:
        deployed = du.deployed_applications(ctx)
        assert deployed and all(d.complete for d in deployed)
        by_key: dict[tuple, du.ValueFile] = {}
        for d in deployed:
            for f in d.files:
                assert by_key.setdefault((f.repo, f.path), f) is f
            if d.unit.environment:
                four = du.four_layer_files(ctx, d.unit)
                # the same files the Application names are the same objects
                for f in four:
                    if (f.repo, f.path) in by_key:
                        assert by_key[(f.repo, f.path)] is f
                # what the four layers are, worked out without the shared answers
                expected = [du.ValueFile(CONFIGS, path) for _, path in du.layer_paths(d.unit)
                            if ctx.store.exists(CONFIGS, path)]
                chart = du.CHART_VALUES.format(p=d.unit.product)
                if ctx.store.exists(INFRA, chart):
                    expected.insert(0, du.ValueFile(INFRA, chart))
                assert four == tuple(expected)
        # the environment files pattern 2 names that do not exist (ignoreMissingValueFiles): known as missing
        known = ctx.shared(du.TREE_FILES, dict)
        missing = [key for key, f in known.items() if f is None]
        assert missing and all(not ctx.store.exists(*key) for key in missing)
        units = du.deployed_units(ctx)
        assert any(u.as_unit for u in units) and any(not u.as_unit for u in units)
