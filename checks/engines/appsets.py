"""What ArgoCD will generate: ApplicationSets read from platform-infrastructure, their
generators emulated against the repositories at the same revision, templates rendered.

Emulates ArgoCD v3.5 (`applicationset/generators/*.go`, `applicationset/utils/utils.go`,
`applicationset/controllers/template/template.go`):

- generators: git `files` and `directories` (with `exclude`, `pathParamPrefix`, `values`),
  `list` (`elements`, then `elementsYaml` appended), `matrix` (exactly two children; the
  second is interpolated with each parameter set of the first; on a clash the first
  child's parameter wins in Go-template mode, and a clash with different values is an
  error in fasttemplate mode) and `merge` (two or more children, `mergeKeys` compared
  on top-level parameters); nesting two levels deep as ArgoCD allows; a generator's
  `selector` (label selector over its flattened parameters) and its own `template`
  (merged over the ApplicationSet's);
- cluster, SCM-provider, pull-request, cluster-decision-resource and plugin generators need
  a cluster or an API: reported as not evaluated, never a silent nothing;
- any error ArgoCD would hit (a template that does not parse or execute, a missing key
  under `missingkey=error`, a matrix or merge of the wrong shape, an unreadable file a git
  files generator matches) fails the whole ApplicationSet's generation, as in ArgoCD,
  where none of its Applications is then changed: `Generation.error`, and no Applications.

Path globbing follows ArgoCD: the git files generator's default globbing lets `*` cross
`/` (gobwas/glob without separators) unless the new globbing (doublestar) is enabled; the
directories generator uses Go's `path.Match`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.core.findings import KeyPath
from checks.engines.app_templates import TemplatePlan
from checks.engines.gofmt import format_value
from checks.engines.gotemplate import (
    MISSING_ERROR,
    GoError,
    MissingKey,
    NotEvaluated,
    TemplateError,
    missingkey_mode,
    render,
    render_legacy,
    tree_renderer,
)
from checks.engines.sprig import load_yaml_like_argocd, sanitize_name
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore, Limits, YamlDocument, parse_yaml_text
from checks.repo.globs import glob_any, glob_match

TERMINAL_KINDS = ("list", "clusters", "git", "scmProvider", "clusterDecisionResource", "pullRequest", "plugin")
GENERATOR_KINDS = (*TERMINAL_KINDS, "matrix", "merge")
EXTERNAL_KINDS = ("clusters", "scmProvider", "clusterDecisionResource", "pullRequest", "plugin")


class GenerationError(Exception):
    """ArgoCD fails the ApplicationSet's generation here."""

    def __init__(self, message: str, key_path: KeyPath) -> None:
        super().__init__(message)
        self.key_path = key_path


@dataclass
class AppSet:
    repo: str
    path: str
    document: YamlDocument
    index: int  # document index in the file

    @property
    def value(self) -> dict:
        return self.document.value

    @property
    def name(self) -> str:
        meta = self.value.get("metadata") or {}
        return str(meta.get("name", "?")) if isinstance(meta, dict) else "?"

    @functools.cached_property  # every generated Application's manifest has it
    def namespace(self) -> str | None:
        meta = self.value.get("metadata")
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        return str(ns) if ns is not None else None

    @property
    def spec(self) -> dict:
        spec = self.value.get("spec")
        return spec if isinstance(spec, dict) else {}

    @functools.cached_property  # asked per parameter set and Application
    def go_template(self) -> bool:
        return self.spec.get("goTemplate") is True

    @property
    def strict(self) -> bool:
        try:
            return missingkey_mode(self.spec.get("goTemplateOptions")) == MISSING_ERROR
        except TemplateError:
            return False


@dataclass(slots=True)  # one per source of every generated Application (31,000 on 1,000 customers)
class AppSource:
    index: int
    repo_url: str
    repo: str | None
    path: str | None
    ref: str | None
    value_files: list[str]
    ignore_missing: bool
    chart: str | None
    target_revision: str | None = None


@dataclass(slots=True)
class GeneratedApp:
    appset: AppSet
    name: str
    namespace: str | None
    sources: list[AppSource]
    single_source: bool
    # the template's plan and the strings its templated strings rendered to, in the renderer's order:
    # the manifest is built again from them when read (`apps`, diffs), a field read from them
    # (`value_at`), instead of holding every Application's tree (1.3 kB each, 31,000 on 1,000 customers)
    rendering: TemplatePlan
    rendered: tuple[str, ...] | None
    params: dict = field(default_factory=dict)  # the parameter set it was rendered from
    template_path: KeyPath = ("spec", "template")  # the template it came from, in the ApplicationSet
    # where it is listed among many (engines/app_generation.py): the same whichever worker generates it
    order: tuple = ()
    # (repo, path) of each value file, as `value_files` lists them: resolved once (`value_paths`)
    resolved: tuple[tuple[str | None, str], ...] | None = None

    @property
    def manifest(self) -> dict:
        """The Application as ArgoCD would create it (a new top level at each read: read it, never change it)."""
        return application_manifest(self.rendering.rendered(self.rendered), self.appset.namespace)

    def value_at(self, path: KeyPath) -> Any:
        """The rendered template's value at `path` (None where it has none), built only below it:
        `value_at(("spec", "syncPolicy"))` is the manifest's spec.syncPolicy when spec is a map."""
        return self.rendering.value(path, self.rendered)

    @property
    def metadata(self) -> dict:
        """The manifest's metadata, without building the rest of it."""
        meta = _mapping(self.value_at(("metadata",)))
        namespace = self.appset.namespace
        return {**meta, "namespace": namespace} if namespace else {**meta}

    @property
    def value_files(self) -> list[tuple[AppSource, int, str]]:
        return [(s, i, f) for s in self.sources for i, f in enumerate(s.value_files)]

    @property
    def value_paths(self) -> tuple[tuple[str | None, str], ...]:
        """(repo, path) each value file points at (`resolve_value_file`), in `value_files`' order."""
        found = self.resolved
        if found is None:
            found = self.resolved = tuple(_resolve(self.sources, s, f) for s in self.sources for f in s.value_files)
        return found


def application_manifest(rendered: dict, namespace: str | None) -> dict:
    """The Application a rendered template makes: its metadata (in the ApplicationSet's namespace) and spec."""
    meta = _mapping(rendered.get("metadata"))
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {**meta, "namespace": namespace} if namespace else {**meta},
            "spec": _mapping(rendered.get("spec"))}


@dataclass
class Problem:
    kind: str  # error | not-evaluated | no-match | unknown-repo
    message: str
    key_path: KeyPath


@dataclass
class Generation:
    appset: AppSet
    apps: list[GeneratedApp] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    error: Problem | None = None  # ArgoCD fails the generation: none of its Applications changes


def is_appset(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") == "ApplicationSet"


def load_appsets(store: DocumentStore, files: list[str]) -> list[AppSet]:
    out = []
    for path in files:
        parsed = store.get(INFRA, path)
        if parsed is None or not parsed.ok:
            continue
        for i, doc in enumerate(parsed.documents):
            if is_appset(doc.value):
                out.append(AppSet(INFRA, path, doc, i))
    return out


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def shown_name(name: Any) -> str:
    """A generated name or namespace as findings may show it: a valid DNS-1123 name as it is;
    anything else (it may have a parameter's value in it, even a secret) as a short hash."""
    text = str(name) if name is not None else ""
    if _DNS_SUBDOMAIN.match(text):
        return text
    return f"<invalid name, sha256:{hashlib.sha256(text.encode()).hexdigest()[:8]}>"


def normalize(name: str) -> str:
    """ArgoCD's SanitizeName: what `basenameNormalized` and `normalize` produce."""
    return sanitize_name(name)


# -- parameters ----------------------------------------------------------------------
def go_number(value: Any) -> Any:
    """Data as ArgoCD holds it after JSON decoding: numbers are float64, keys strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else format_value(k, False)): go_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_number(v) for v in value]
    return str(value)


def flatten(value: dict) -> dict[str, str]:
    """jeremywohl/flatten (dot style) and fmt's %v: what fasttemplate mode sees. Lists are
    flattened by index (`a.0`), an empty map or list yields no key, null is "<nil>"."""
    out: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in value.items()]
    while stack:
        key, v = stack.pop()
        if isinstance(v, dict):
            stack.extend((f"{key}.{k}", x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((f"{key}.{i}", x) for i, x in enumerate(v))
        else:
            out[key] = format_value(go_number(v), False)
    return out


def _path_params(path: str, is_file: bool, go: bool, prefix: str) -> dict[str, Any]:
    """ArgoCD's git generator path parameters (`generateParamsFromGitFile` / `generateParamsFromApps`)."""
    directory = posixpath.dirname(path) or "." if is_file else path
    basename = _go_base(directory)
    if go:
        p: dict[str, Any] = {"path": directory, "basename": basename, "basenameNormalized": _sanitized(basename),
                             "segments": directory.split("/")}
        if is_file:
            filename = _go_base(path)
            p["filename"] = filename
            p["filenameNormalized"] = _sanitized(filename)
        return {prefix: {"path": p}} if prefix else {"path": p}
    name = f"{prefix}.path" if prefix else "path"
    flat = {name: directory, f"{name}.basename": basename, f"{name}.basenameNormalized": _sanitized(basename)}
    if is_file:
        filename = _go_base(path)
        flat[f"{name}.filename"] = filename
        flat[f"{name}.filenameNormalized"] = _sanitized(filename)
    for i, seg in enumerate(directory.split("/")):
        if seg:
            flat[f"{name}[{i}]"] = seg
    return flat


# the same few base names (a product, `values.yaml`) for every customer's files
_sanitized = functools.lru_cache(maxsize=1 << 12)(sanitize_name)


def _go_base(p: str) -> str:
    p = p.rstrip("/")
    return p.rsplit("/", 1)[-1] if p else "."


def _mergo(dst: dict, src: dict) -> dict:
    """mergo.Merge(dst, src, WithOverride) on parameter maps: src's values win (empty ones too,
    as for map entries), maps merge key by key. Returns a new map."""
    out = dict(dst)
    for k, v in src.items():
        current = out.get(k)
        out[k] = _mergo(current, v) if isinstance(current, dict) and isinstance(v, dict) else v
    return out


def _go_empty(v: Any) -> bool:
    return v is None or v == "" or v is False or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0) \
        or (isinstance(v, (list, dict)) and not v)


# -- label selectors (applicationset/utils/selector.go) ---------------------------------
_QUALIFIED = re.compile(r"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def _selector(spec: Any, where: KeyPath) -> Callable[[dict[str, str]], bool] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise GenerationError("selector is not a label selector", where)
    labels = spec.get("matchLabels") or {}
    exprs = spec.get("matchExpressions") or []
    if not isinstance(labels, dict) or not isinstance(exprs, list):
        raise GenerationError("error parsing label selector", where)
    reqs: list[tuple[str, str, list[str]]] = []
    for k, v in labels.items():
        reqs.append((str(k), "In", [format_value(v, False)]))
    for e in exprs:
        if not isinstance(e, dict):
            raise GenerationError("error parsing label selector: a matchExpression is not a map", where)
        op = e.get("operator")
        values = [format_value(v, False) for v in e.get("values") or []]
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise GenerationError(f"error parsing label selector: {op!r} is not a valid pod selector operator", where)
        if (op in ("In", "NotIn") and not values) or (op in ("Exists", "DoesNotExist") and values):
            raise GenerationError(f"error parsing label selector: wrong number of values for {op}", where)
        reqs.append((str(e.get("key", "")), op, values))
    for key, _, _ in reqs:
        if not _QUALIFIED.match(key) or len(key) > 316:
            raise GenerationError(f"error parsing label selector: invalid label key {key!r}", where)

    def matches(flat: dict[str, str]) -> bool:
        for key, op, values in reqs:
            present = key in flat
            if op == "In" and not (present and flat[key] in values):
                return False
            if op == "NotIn" and present and flat[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True
    return matches


def _selector_view(params: dict, go: bool) -> dict[str, str]:
    """flattenParameters: the parameters flattened with dots, values as fmt's %v."""
    if not go:
        return {k: v if isinstance(v, str) else format_value(go_number(v), False) for k, v in params.items()}
    return flatten(params)


def tied_customer(path: str) -> str | None:
    """The customer whose files a path is (`customers/<c>/...`; a directory ends with `/`)."""
    parts = path.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "customers" else None


class Listings:
    """Each repository's file listing, sorted, and grouped by the customer whose files they are
    (`customers/<c>/...`; None: no customer's): worked out once for every emulator of a run."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._sorted: dict[str, list[str]] = {}
        self._groups: dict[str, dict[str | None, list[str]]] = {}

    def sorted(self, repo: str) -> list[str]:
        if repo not in self._sorted:
            self._sorted[repo] = sorted(self.store.sources[repo].files())
        return self._sorted[repo]

    def by_customer(self, repo: str) -> dict[str | None, list[str]]:
        if repo not in self._groups:
            groups: dict[str | None, list[str]] = {}
            for path in self.sorted(repo):
                groups.setdefault(tied_customer(path), []).append(path)
            self._groups[repo] = groups
        return self._groups[repo]


class Emulator:
    def __init__(self, store: DocumentStore, repo_for_url, new_globbing: bool = False,
                 path_filter=None, listings: Listings | None = None,
                 customer_filter: Callable[[str], bool] | None = None) -> None:
        self.store = store
        self.repo_for_url = repo_for_url
        self._repos: dict[str, str | None] = {}  # repo_for_url of each repoURL seen in a template
        # equal sources one object (read, never changed): thousands of Applications name the same `ref:
        # values` source, or a customer's product's chart and value files from several ApplicationSets
        self._sources: dict[tuple, AppSource] = {}
        self.new_globbing = new_globbing
        # PR mode: only paths the change can affect produce Applications (matching still sees all)
        self.path_filter = path_filter
        self._renderers: dict[int, tuple[Any, Any]] = {}  # id(generator) -> (generator, its renderer)
        self._plans: dict[int, TemplatePlan] = {}  # id(template) -> its plan
        self._pairs: dict[tuple[str | None, str], tuple[str | None, str]] = {}  # see _paths
        self._fields: dict[int, tuple[TemplatePlan, tuple]] = {}  # id(plan) -> (plan, _fields(plan))
        # shared by the emulators of one run (a worker's shares): sorted once, grouped by customer once
        self._listings = listings if listings is not None else Listings(store)
        # a worker's share: a path under customers/<c>/ is in the path filter only if c passes this
        self._customer_filter = customer_filter
        self._filtered_listings: dict[str, list[str]] = {}
        self._file_params: dict[tuple, list[dict]] = {}
        # equal rendered strings (a product's value files, a cluster) kept once for every Application
        self._strings: dict[str, str] = {}

    def _listing(self, repo: str) -> list[str]:
        return self._listings.sorted(repo)

    def _filtered(self, repo: str) -> list[str]:
        """The listing through the path filter (PR mode, a worker's share), computed once for every
        generator. For a share, only the paths of its customers and of no customer are asked: the
        whole listing once per share made the shares of 10,000 customers cost its square."""
        if repo not in self._filtered_listings:
            keep = self.path_filter or (lambda path: True)
            if self._customer_filter is None:
                candidates = self._listing(repo)
            else:
                groups = self._listings.by_customer(repo)
                mine = self._customer_filter
                candidates = sorted([*groups.get(None, ()),
                                     *(p for c, paths in groups.items() if c is not None and mine(c) for p in paths)])
            self._filtered_listings[repo] = [f for f in candidates if keep(f)]
        return self._filtered_listings[repo]

    # ----------------------------------------------------------------------------------
    def generator_params(self, appset: AppSet, generator: Any) -> list[dict]:
        """The parameter sets of one top-level generator (GenerationError / NotEvaluated as
        ArgoCD fails / as not emulated): what ArgoCD's generator tests compare."""
        mode = missingkey_mode(appset.spec.get("goTemplateOptions"))
        results = self._transform(generator, ("spec", "generators", 0), appset, {}, None, 0, Generation(appset), mode)
        return [p for params, _, _ in results for p in params]

    def generate(self, appset: AppSet) -> Generation:
        gen = Generation(appset)
        try:
            self._generate(appset, gen)
        except GenerationError as exc:
            self._fail(gen, str(exc), exc.key_path)
        except (MissingKey, TemplateError) as exc:
            self._fail(gen, f"template error: {exc}", ("spec", "template"))
        except RecursionError:
            self._fail(gen, "generators or parameters nested too deeply to evaluate", ("spec", "generators"))
        return gen

    def _fail(self, gen: Generation, message: str, where: KeyPath) -> None:
        if gen.error is None:
            gen.error = Problem("error", f"{message}: ArgoCD fails this ApplicationSet's generation and changes "
                                "none of its Applications", where)
            gen.problems.append(gen.error)
        gen.apps = []
        gen.complete = False

    def _generate(self, appset: AppSet, gen: Generation) -> None:
        spec = appset.spec
        generators = spec.get("generators")
        if not isinstance(generators, list):
            return
        try:
            mode = missingkey_mode(spec.get("goTemplateOptions"))
        except TemplateError as exc:
            raise GenerationError(str(exc), ("spec", "goTemplateOptions")) from None
        template = _mapping(spec.get("template"))
        if spec.get("templatePatch"):
            gen.complete = False
            gen.problems.append(Problem("not-evaluated", "templatePatch is not evaluated", ("spec", "templatePatch")))
        errors: list[GenerationError] = []
        for gi, generator in enumerate(generators):
            where: KeyPath = ("spec", "generators", gi)
            try:
                results = self._transform(generator, where, appset, template, None, 0, gen, mode)
            except GenerationError as exc:
                errors.append(exc)
                continue
            except NotEvaluated as exc:
                gen.complete = False
                gen.problems.append(Problem("not-evaluated", f"generator not evaluated: {exc}", where))
                continue
            for params_list, tmpl, twhere in results:
                for params in params_list:
                    try:
                        app = self._render(appset, tmpl, params, mode)
                    except NotEvaluated as exc:
                        gen.complete = False
                        gen.problems.append(Problem("not-evaluated", f"template expression not evaluated: {exc}",
                                                    twhere))
                        continue
                    except (TemplateError, RecursionError) as exc:
                        errors.append(GenerationError(f"template error: {exc}", twhere))
                        continue
                    app.template_path = twhere
                    gen.apps.append(app)
        if errors:
            raise errors[0]

    # generators -----------------------------------------------------------------------
    def _transform(self, generator: Any, where: KeyPath, appset: AppSet, base_template: dict, parent: dict | None,
                   depth: int, gen: Generation, mode: int) -> list[tuple[list[dict], dict, KeyPath]]:
        """generators.Transform: one (params, template, template's key path) per kind present."""
        if not isinstance(generator, dict):
            raise GenerationError("a generator must be a map", where)
        allowed = GENERATOR_KINDS if depth < 2 else TERMINAL_KINDS
        kinds = [k for k in allowed if generator.get(k) is not None]
        select = _selector(generator.get("selector"), (*where, "selector"))
        out = []
        for kind in kinds:
            body = generator[kind]
            own = body.get("template") if isinstance(body, dict) else None
            tmpl = _merge_template(own, base_template) if isinstance(own, dict) and own else base_template
            twhere = (*where, kind, "template") if isinstance(own, dict) and own else ("spec", "template")
            if parent:
                body = self._interpolate(body, parent, appset, mode, (*where, kind))
            if kind in EXTERNAL_KINDS:
                raise NotEvaluated(f"the {kind} generator needs a cluster or an external API")
            if kind == "list":
                params = self._list(body, (*where, kind), appset)
            elif kind == "git":
                params = self._git(body, (*where, kind), appset, gen, mode)
            elif kind == "matrix":
                params = self._matrix(body, (*where, kind), appset, depth, gen, mode)
            else:
                params = self._merge(body, (*where, kind), appset, depth, gen, mode)
            if select is not None:
                params = [p for p in params if select(_selector_view(p, appset.go_template))]
            out.append((params, tmpl, twhere))
        return out

    def _child(self, child: Any, where: KeyPath, appset: AppSet, parent: dict | None, depth: int,
               gen: Generation, mode: int) -> list[dict]:
        """matrix/merge getParams: a child must be exactly one generator."""
        results = self._transform(child, where, appset, {}, parent, depth + 1, gen, mode)
        if not results:
            if isinstance(child, dict) and depth >= 1 and any(child.get(k) is not None for k in ("matrix", "merge")):
                raise GenerationError("child generator generated no parameters (a matrix or merge nested more "
                                      "than two levels is dropped by ArgoCD)", where)
            raise GenerationError("child generator generated no parameters", where)
        if len(results) > 1:
            raise GenerationError("found more than one generator in matrix.Generators", where)
        return results[0][0]

    def _matrix(self, body: Any, where: KeyPath, appset: AppSet, depth: int, gen: Generation,
                mode: int) -> list[dict]:
        children = body.get("generators") if isinstance(body, dict) else None
        if not isinstance(children, list) or len(children) < 2:
            raise GenerationError("found less than two generators, Matrix support only two", (*where, "generators"))
        if len(children) > 2:
            raise GenerationError("found more than two generators, Matrix support only two", (*where, "generators"))
        out: list[dict] = []
        first = self._child(children[0], (*where, "generators", 0), appset, None, depth, gen, mode)
        for a in first:
            second = self._child(children[1], (*where, "generators", 1), appset, a, depth, gen, mode)
            for b in second:
                if appset.go_template:
                    out.append(_mergo(_mergo({}, b), a))  # the first child wins a clash
                else:
                    out.append(_combine_string_maps(a, b, (*where, "generators")))
        return out

    def _merge(self, body: Any, where: KeyPath, appset: AppSet, depth: int, gen: Generation,
               mode: int) -> list[dict]:
        children = body.get("generators") if isinstance(body, dict) else None
        if not isinstance(children, list) or len(children) < 2:
            raise GenerationError("found less than two generators, Merge requires two or more", (*where, "generators"))
        keys = body.get("mergeKeys")
        sets = [self._child(c, (*where, "generators", i), appset, None, depth, gen, mode)
                for i, c in enumerate(children)]
        if not isinstance(keys, list) or not keys:
            raise GenerationError("no merge keys were specified, Merge requires at least one", (*where, "mergeKeys"))
        unique = sorted({str(k) for k in keys})
        base = _by_merge_key(unique, sets[0], (*where, "generators", 0))
        for i, extra in enumerate(sets[1:], start=1):
            by_key = _by_merge_key(unique, extra, (*where, "generators", i))
            for key, item in base.items():
                other = by_key.get(key)
                if other is not None:
                    base[key] = _mergo(item, other) if appset.go_template else {**item, **other}
        return list(base.values())

    def _interpolate(self, body: Any, parent: dict, appset: AppSet, mode: int, where: KeyPath) -> Any:
        """InterpolateGenerator: the child generator's strings rendered with the first child's
        parameters; `values` entries resolved with missingkey=error, left as they are when a key
        is missing (for the child to resolve)."""
        try:
            if not appset.go_template:
                flat = parent if all(isinstance(v, str) for v in parent.values()) else _selector_view(parent, False)
                return self._templated(body, lambda s: render_legacy(s, flat))
            out = body
            values = None
            if isinstance(body, dict) and isinstance(body.get("values"), dict):
                values = {}
                for k, v in body["values"].items():
                    text = v if isinstance(v, str) else format_value(v, False)
                    try:
                        values[k] = render(text, parent, MISSING_ERROR) if "{{" in text else text
                    except MissingKey:
                        values[k] = text
                out = {k: v for k, v in body.items() if k != "values"}
            out = self._templated(out, lambda s: render(s, parent, mode))
            if values is not None:
                out = {**out, "values": values}
            return out
        except (TemplateError, RecursionError) as exc:
            raise GenerationError(f"failed to replace parameters in generator: {exc}", where) from None

    def _templated(self, body: Any, fn: Callable[[str], str]) -> Any:
        renderer = self._renderer(body)[1]
        return body if renderer is None else renderer(fn)

    def _renderer(self, body: Any) -> tuple[Any, Any]:
        """(body, its renderer): one compiled renderer per template object, thousands of Applications share it."""
        key = id(body)
        entry = self._renderers.get(key)
        if entry is None or entry[0] is not body:
            entry = (body, tree_renderer(body))
            self._renderers[key] = entry
        return entry

    def _list(self, body: Any, where: KeyPath, appset: AppSet) -> list[dict]:
        if not isinstance(body, dict):
            raise GenerationError("list generator without a body", where)
        elements = body.get("elements")
        out: list[dict] = []
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            if element is None:
                out.append({})
                continue
            if not isinstance(element, dict):
                raise GenerationError(f"error unmarshling list element {i}: not a map", (*where, "elements", i))
            if appset.go_template:
                out.append(go_number(element))
                continue
            params: dict[str, Any] = {}
            for key, value in element.items():
                if key == "values":
                    if not isinstance(value, dict):
                        raise GenerationError("error parsing values map", (*where, "elements", i, "values"))
                    for k, v in value.items():
                        if not isinstance(v, str):
                            raise GenerationError(f"error parsing value as string: values.{k}",
                                                  (*where, "elements", i, "values", k))
                        params[f"values.{k}"] = v
                else:
                    if not isinstance(value, str):
                        raise GenerationError(f"error parsing value as string: {key} is not a string "
                                              "(fasttemplate mode)", (*where, "elements", i, key))
                    params[str(key)] = value
            out.append(params)
        text = body.get("elementsYaml")
        if text not in (None, ""):
            if not isinstance(text, str):
                raise GenerationError("elementsYaml is not a string", (*where, "elementsYaml"))
            try:
                extra = load_yaml_like_argocd(text)
            except GoError:
                raise GenerationError("error unmarshling decoded ElementsYaml", (*where, "elementsYaml")) from None
            if extra is None:
                extra = []
            if not isinstance(extra, list) or not all(isinstance(e, dict) or e is None for e in extra):
                raise GenerationError("error unmarshling decoded ElementsYaml: not a list of maps",
                                      (*where, "elementsYaml"))
            out.extend(e or {} for e in extra)
        return out

    def _git(self, body: Any, where: KeyPath, appset: AppSet, gen: Generation, mode: int) -> list[dict]:
        if not isinstance(body, dict):
            raise GenerationError("git generator without a body", where)
        repo = self.repo_for_url(str(body.get("repoURL", "")))
        if repo is None or repo not in self.store.sources:
            gen.problems.append(Problem("unknown-repo", f"repoURL {body.get('repoURL')!r} is neither repository "
                                        "given to this run: its generator is not evaluated", (*where, "repoURL")))
            raise NotEvaluated(f"repository {body.get('repoURL')}")
        files = self._listing(repo)
        values = body.get("values") if isinstance(body.get("values"), dict) else None
        prefix = body.get("pathParamPrefix") or ""
        prefix = prefix if isinstance(prefix, str) else format_value(prefix, False)
        if isinstance(body.get("directories"), list) and body["directories"]:
            return self._git_dirs(body["directories"], files, repo, (*where, "directories"), appset, gen, values,
                                  prefix, mode)
        if isinstance(body.get("files"), list) and body["files"]:
            return self._git_files(body["files"], files, repo, (*where, "files"), appset, gen, values, prefix, mode)
        raise GenerationError("git generator without files or directories", where)

    def _git_files(self, entries: list, files: list[str], repo: str, where: KeyPath, appset: AppSet,
                   gen: Generation, values: dict | None, prefix: str, mode: int) -> list[dict]:
        include = [(i, str(e["path"])) for i, e in enumerate(entries) if isinstance(e, dict)
                   and e.get("path") is not None and e.get("exclude") is not True]
        exclude = [str(e["path"]) for e in entries if isinstance(e, dict) and e.get("path") is not None
                   and e.get("exclude") is True]
        glob_mode = "doublestar" if self.new_globbing else "legacy"
        # PR mode: match only the paths the change can affect; the whole listing only to tell
        # "matches nothing at all" from "matches nothing in this change"
        candidates = files if self.path_filter is None else self._filtered(repo)

        def matcher(pattern: str, i: int | None) -> Callable[[str], bool]:
            try:
                glob_match(pattern, "", glob_mode)
            except re.error:
                raise GenerationError(f"files path {pattern!r} is not a valid glob",
                                      (*where, i, "path") if i is not None else where) from None
            return glob_any((pattern,), glob_mode)  # one compiled expression, asked for every file

        excluded = [matcher(x, None) for x in exclude]
        selected: set[str] = set()
        for i, pattern in include:
            hit = matcher(pattern, i)
            matched = [f for f in candidates if hit(f)]
            if not matched and (candidates is files or not any(hit(f) for f in files)):
                gen.problems.append(Problem("no-match", f"files path {pattern!r} matches no file: this generator "
                                            "produces nothing", (*where, i, "path")))
            selected.update(matched)
        out: list[dict] = []
        go = appset.go_template
        for path in sorted(f for f in selected if not any(x(f) for x in excluded)):
            for item in self._file_objects(repo, path, where):
                if go:
                    # a new top level over the cached document: nothing below it is ever changed
                    params = {**item, **_path_params(path, True, True, prefix)}
                else:
                    params = {**flatten(item), **_path_params(path, True, False, prefix)}
                out.append(self._with_values(params, values, appset, mode, where))
        return out

    def _file_objects(self, repo: str, path: str, where: KeyPath) -> list[dict]:
        """The parameter objects of one file, read as ArgoCD reads it (sigs.k8s.io/yaml: the first
        document, JSON types, numbers float64): a map, or a list of maps; empty is one empty map."""
        key = (repo, path)
        cached = self._file_params.get(key)
        if cached is not None:
            return cached
        parsed = self.store.get(repo, path)
        doc = parsed.first if parsed is not None and parsed.ok else None
        if parsed is not None and not parsed.ok and path.endswith(".json") and parsed.text is not None:
            # ArgoCD reads .json files as YAML too
            docs, problems = parse_yaml_text(parsed.text, self.store.limits or Limits())
            doc = docs[0] if docs and not any(p.fatal for p in problems) else None
            if doc is None and not docs and not problems:
                doc = YamlDocument(None)
        elif parsed is not None and parsed.ok and doc is None:
            doc = YamlDocument(None)  # an empty file
        if doc is None:
            raise GenerationError(f"unable to process file '{path}': it cannot be read as YAML or JSON",
                                  (*where,))
        # numbers stay Python ints here: templates read them as float64 (gotemplate.as_data)
        content = doc.value
        if content is None:
            objects: list[dict] = [{}]
        elif isinstance(content, dict):
            objects = [content]
        elif isinstance(content, list) and all(isinstance(e, dict) or e is None for e in content):
            objects = [e or {} for e in content]
        else:
            raise GenerationError(f"unable to process file '{path}': unable to parse file: neither a map nor a "
                                  "list of maps", (*where,))
        self._file_params[key] = objects
        return objects

    def _git_dirs(self, entries: list, files: list[str], repo: str, where: KeyPath, appset: AppSet,
                  gen: Generation, values: dict | None, prefix: str, mode: int) -> list[dict]:
        # PR mode: directories of the paths the change can affect; every directory only to tell
        # "matches nothing at all" from "matches nothing in this change"
        path_filter = self.path_filter
        every: list[set[str]] = []  # every directory, found only when needed (1,000 customers: 13,000)

        def all_dirs() -> set[str]:
            if not every:
                every.append(_directories(files))
            return every[0]
        dirs = all_dirs() if path_filter is None else {d for d in _directories(self._filtered(repo))
                                                       if path_filter(d + "/")}
        patterns = []
        for i, e in enumerate(entries):
            if isinstance(e, dict) and e.get("path") is not None:
                pattern = str(e["path"])
                try:
                    glob_match(pattern, "", "pathmatch")
                except re.error:
                    continue  # path.Match's ErrBadPattern: ArgoCD logs it and skips the pattern
                patterns.append((i, pattern, e.get("exclude") is True, glob_any((pattern,), "pathmatch")))
        for i, pattern, is_exclude, match in patterns:
            if not is_exclude and not any(map(match, dirs)) and (
                    path_filter is None or not any(map(match, all_dirs()))):
                gen.problems.append(Problem("no-match", f"directories path {pattern!r} matches no directory: this "
                                            "generator produces nothing", (*where, i, "path")))
        out: list[dict] = []
        # filepath.Walk's order: lexical by path segment
        for d in sorted(dirs, key=lambda d: d.split("/")):
            include = any(not x and match(d) for _, _, x, match in patterns)
            if include and not any(x and match(d) for _, _, x, match in patterns):
                out.append(self._with_values(_path_params(d, False, appset.go_template, prefix), values, appset,
                                             mode, where))
        return out

    def _with_values(self, params: dict, values: dict | None, appset: AppSet, mode: int, where: KeyPath) -> dict:
        """appendTemplatedValues: each value rendered with the parameters (templating errors fail)."""
        if not values:
            return params
        rendered: dict[str, str] = {}
        try:
            if appset.go_template:
                for k, v in values.items():
                    text = v if isinstance(v, str) else format_value(v, False)
                    rendered[str(k)] = render(text, params, mode) if "{{" in text else text
                return {**params, "values": rendered}
            flat = params if all(isinstance(v, str) for v in params.values()) else _selector_view(params, False)
            for k, v in values.items():
                text = v if isinstance(v, str) else format_value(v, False)
                rendered[f"values.{k}"] = render_legacy(text, flat)
            return {**params, **rendered}
        except (TemplateError, RecursionError) as exc:
            raise GenerationError(f"failed to append templated values: {exc}", (*where[:-1], "values")) from None

    # templates --------------------------------------------------------------------------
    def _render(self, appset: AppSet, template: dict, params: dict, mode: int) -> GeneratedApp:
        """RenderTemplateParams: every string (and map key) of the template rendered; an empty
        parameter set leaves the template as it is."""
        plan = self._plan(template)
        if not params or not plan.templated:
            return self._application(appset, plan, template, None, params)
        strings = self._strings
        record: list[str] = []
        keep = record.append
        if appset.go_template:
            def one(s: str) -> str:
                text = render(s, params, mode)
                keep(text := strings.setdefault(text, text))
                return text
        else:
            flat = params if all(isinstance(v, str) for v in params.values()) else _selector_view(params, False)

            def one(s: str) -> str:
                text = render_legacy(s, flat)
                keep(text := strings.setdefault(text, text))
                return text
        if plan.strings is None:  # a templated map key: the tree rendered whole
            return self._application(appset, plan, plan.renderer(one), record, params)
        if appset.go_template:
            record = plan.render_go(params, mode, strings)
        else:
            for s in plan.strings:
                one(s)
        return self._from_fields(appset, plan, record, params)

    def _application(self, appset: AppSet, plan: TemplatePlan, rendered: dict, record: list[str] | None,
                     params: dict) -> GeneratedApp:
        """The Application of a rendered template tree."""
        meta = _mapping(rendered.get("metadata"))
        spec = _mapping(rendered.get("spec"))
        dest = _mapping(spec.get("destination"))
        listed = spec.get("sources")
        raw_sources = listed if isinstance(listed, list) else (
            [spec["source"]] if isinstance(spec.get("source"), dict) else [])
        sources = []
        for i, src in enumerate(raw_sources):
            if not isinstance(src, dict):
                continue
            helm = _mapping(src.get("helm"))
            sources.append(self._source(i, src.get("repoURL", ""), helm.get("valueFiles"),
                                        helm.get("ignoreMissingValueFiles") is True, src.get("path"),
                                        src.get("ref"), src.get("chart"), src.get("targetRevision")))
        return GeneratedApp(appset, str(meta.get("name", "")), dest.get("namespace"), sources,
                            not isinstance(spec.get("sources"), list), plan,
                            tuple(record) if record is not None else None, params, resolved=self._paths(sources))

    def _from_fields(self, appset: AppSet, plan: TemplatePlan, record: list[str], params: dict) -> GeneratedApp:
        """The Application of a template's rendered strings, its fields read from them (`_fields`)
        as `_application` reads them from the rendered tree."""
        fields = self._fields.get(id(plan))
        if fields is None or fields[0] is not plan:
            fields = self._fields[id(plan)] = (plan, self._constant_sources(_fields(plan)))
        _, (name, namespace, single, source_fields) = fields
        sources = [self._source(i, url(record), files(record), ignore, path(record), ref(record), chart(record),
                                revision(record)) if constant is None else constant
                   for i, url, files, ignore, path, ref, chart, revision, constant in source_fields]
        return GeneratedApp(appset, str(name(record)), namespace(record), sources, single, plan, tuple(record), params,
                            resolved=self._paths(sources))

    def _paths(self, sources: list[AppSource]) -> tuple[tuple[str | None, str], ...]:
        """Where each value file of the sources is (`GeneratedApp.value_paths`): every check asks; equal
        (repo, path) pairs one object (a customer's values file is named by several ApplicationSets)."""
        pairs = self._pairs
        return tuple([pairs.setdefault(pair, pair) for s in sources for f in s.value_files
                      for pair in (_resolve(sources, s, f),)])

    def _constant_sources(self, fields: tuple) -> tuple:
        """`_fields` with each source nothing in which is templated made once (the same for every Application)."""
        name, namespace, single, sources = fields
        out = []
        for i, url, files, ignore, path, ref, chart, revision, templated in sources:
            constant = None if templated else self._source(i, url(()), files(()), ignore, path(()), ref(()), chart(()),
                                                           revision(()))
            out.append((i, url, files, ignore, path, ref, chart, revision, constant))
        return name, namespace, single, out

    def _source(self, index: int, url: Any, value_files: Any, ignore_missing: bool, path: Any, ref: Any, chart: Any,
                target_revision: Any) -> AppSource:
        """One source of an Application; equal ones are one object."""
        files = [str(f) for f in value_files or [] if isinstance(f, (str, int, float))]
        url = str(url)
        if url in self._repos:
            repo = self._repos[url]
        else:
            repo = self._repos[url] = self.repo_for_url(url)
        loose = (path, ref, chart, target_revision)  # any YAML value: 1 == 1.0 == True
        key = (index, url, repo, tuple(files), ignore_missing, loose, tuple(map(type, loose)))
        try:
            found = self._sources.get(key)
        except TypeError:  # a templated field that is a map or a list: not shared
            return AppSource(index, url, repo, path, ref, files, ignore_missing, chart, target_revision)
        if found is None:
            found = self._sources[key] = AppSource(index, url, repo, path, ref, files, ignore_missing, chart,
                                                   target_revision)
        return found

    def _plan(self, template: Any) -> TemplatePlan:
        """One plan per template object: thousands of Applications share it."""
        key = id(template)
        plan = self._plans.get(key)
        if plan is None or plan.template is not template:
            plan = self._plans[key] = TemplatePlan(template)
        return plan

def _fields(plan: TemplatePlan) -> tuple:
    """How `Emulator._application` reads an Application's fields, as functions of the rendered strings
    of a template without templated map keys: the rendered tree has the template's shape (a string
    renders to a string), so which fields exist and of which type is the template's, worked out once.
    (name, namespace, single source, one (index, repoURL, valueFiles, ignoreMissingValueFiles, path,
    ref, chart, targetRevision, whether anything in it is templated) per source)."""
    template = plan.template
    spec = _mapping(template.get("spec"))
    listed = spec.get("sources")
    raw_sources: list[tuple[KeyPath, Any]]
    if isinstance(listed, list):
        raw_sources = [(("spec", "sources", i), src) for i, src in enumerate(listed)]
    else:
        raw_sources = [(("spec", "source"), spec["source"])] if isinstance(spec.get("source"), dict) else []
    sources = []
    for i, (where, src) in enumerate(raw_sources):
        if not isinstance(src, dict):
            continue
        helm = _mapping(src.get("helm"))
        sources.append((i, plan.getter((*where, "repoURL"), ""), plan.getter((*where, "helm", "valueFiles")),
                        helm.get("ignoreMissingValueFiles") is True, plan.getter((*where, "path")),
                        plan.getter((*where, "ref")), plan.getter((*where, "chart")),
                        plan.getter((*where, "targetRevision")), where in plan.under))
    # a map or list in between, or none at all, reads as the tree reader's `_mapping` reads it: nothing
    name = plan.getter(("metadata", "name"), "")
    namespace = plan.getter(("spec", "destination", "namespace"))
    return name, namespace, not isinstance(listed, list), sources


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (a hostile or partial document)."""
    return value if isinstance(value, dict) else {}


def _merge_template(own: dict, base: dict) -> dict:
    """mergo.Merge(own, base): the generator's template, its empty fields filled from the
    ApplicationSet's."""
    out = dict(own)
    for k, v in base.items():
        current = out.get(k)
        if isinstance(current, dict) and isinstance(v, dict):
            out[k] = _merge_template(current, v)
        elif k not in out or _go_empty(current):
            out[k] = v
    return out


def _combine_string_maps(a: dict, b: dict, where: KeyPath) -> dict:
    """utils.CombineStringMaps: fasttemplate matrix children must agree on a shared key."""
    sa = {k: v if isinstance(v, str) else format_value(v, False) for k, v in a.items()}
    out = dict(sa)
    for k, v in b.items():
        text = v if isinstance(v, str) else format_value(v, False)
        if k in out and out[k] != text:
            # the values themselves are never shown: a parameter may hold a secret
            raise GenerationError(f"found duplicate key {k} with different values in the two matrix children",
                                  where)
        out[k] = text
    return out


def _by_merge_key(keys: list[str], param_sets: list[dict], where: KeyPath) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for params in param_sets:
        try:
            key = json.dumps({k: params.get(k) for k in keys}, sort_keys=True, default=str)
        except (TypeError, ValueError):
            key = repr(sorted((k, str(params.get(k))) for k in keys))
        if key in out:
            raise GenerationError("the parameters from a generator were not unique by the given mergeKeys "
                                  f"({', '.join(keys)}), Merge requires all param sets to be unique", where)
        out[key] = params
    return out


def _directories(files: Any) -> set[str]:
    """Every folder holding a file, at any depth; hidden folders (".git", ".github") left out."""
    dirs: set[str] = set()
    for f in files:
        d, slash, _ = f.rpartition("/")
        while slash and d not in dirs:  # a folder seen before: its parents were too
            dirs.add(d)
            d, slash, _ = d.rpartition("/")
    return {d for d in dirs if "/." not in "/" + d}


def git_file_patterns(value: Any) -> list[str]:
    """Every git `files` path pattern in an ApplicationSet (nested generators included)."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            git = item.get("git")
            if isinstance(git, dict) and isinstance(git.get("files"), list):
                out += [str(f["path"]) for f in git["files"] if isinstance(f, dict) and "path" in f]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def can_change_applications(appsets: list[AppSet], changes: list[tuple[str, str]]) -> bool:
    """Whether changed configs files (status, path) can change what the ApplicationSets generate:
    an added, deleted or renamed file changes the listings generators match; a modified file
    matters only when a git files generator reads it (matched here with the widest globbing)."""
    patterns = [p for a in appsets for p in git_file_patterns(a.spec.get("generators"))]
    if any("{{" in p for p in patterns):
        return True  # a templated pattern could read anything

    def matches(p: str, path: str) -> bool:
        try:
            return glob_match(p, path, "legacy")
        except re.error:
            return False
    return any(status != "M" or any(matches(p, path) for p in patterns) for status, path in changes)


def default_repo_for_url(mapping: dict[str, str]):
    """repoURL -> which of our repositories it is: the settings' mapping, else by name."""
    def resolve(url: str) -> str | None:
        if url in mapping:
            return mapping[url]
        tail = url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        if tail == "customer-configs":
            return CONFIGS
        if tail == "platform-infrastructure":
            return INFRA
        return None
    return resolve


# -- value files -------------------------------------------------------------------------
def resolve_value_file(app: GeneratedApp, source: AppSource, entry: str) -> tuple[str | None, str]:
    """(repo, path) a valueFiles entry points at: `$ref/...` through the source with that ref,
    else relative to the chart's path in the same source's repository."""
    return _resolve(app.sources, source, entry)


def _resolve(sources: list[AppSource], source: AppSource, entry: str) -> tuple[str | None, str]:
    ref, path, as_written = _entry(entry)
    if ref is not None:
        for src in sources:
            if src.ref == ref:
                return src.repo, path
        return None, as_written
    if source.path is None:
        return source.repo, path
    return source.repo, _joined(str(source.path), path)


# every Application's value files are resolved; a product's files are the same for every customer:
# each entry read once, each (chart path, entry) joined and normalised once, the same string kept for all
@functools.lru_cache(maxsize=1 << 16)
def _entry(entry: str) -> tuple[str | None, str, str]:
    """(ref, path normalised, path as written) of a `$ref/path` entry; (None, entry, entry) of any
    other (`secrets://` dropped from both)."""
    entry = entry.removeprefix("secrets://")
    if entry.startswith("$"):
        ref, _, rest = entry[1:].partition("/")
        return ref, posixpath.normpath(rest), rest
    return None, entry, entry


def value_file_ref(entry: str) -> str | None:
    """The ref a `$ref/...` valueFiles entry is read through (`secrets://` or not), else None."""
    return _entry(entry)[0]


@functools.lru_cache(maxsize=1 << 16)
def _joined(path: str, entry: str) -> str:
    return posixpath.normpath(posixpath.join(path, entry))


LAYER_RANK = (
    (re.compile(r"^products/[^/]+/base-values\.ya?ml$"), 1),
    (re.compile(r"^products/[^/]+/environments/[^/]+\.ya?ml$"), 2),
    (re.compile(r"^customers/[^/]+/[^/]+/values\.ya?ml$"), 3),
    (re.compile(r"^customers/[^/]+/[^/]+/environments/[^/]+\.ya?ml$"), 4),
)


@functools.lru_cache(maxsize=1 << 16)  # a product's files are the same for thousands of Applications
def layer_rank(path: str) -> int | None:
    for pattern, rank in LAYER_RANK:
        if pattern.match(path):
            return rank
    return None
