"""What ArgoCD will generate: ApplicationSets read from platform-infrastructure, their
generators emulated against the repositories at the same revision, templates rendered.

Generators: git `files` and `directories` (with `exclude`), `list` (`elements` and
`elementsYaml`), `matrix` (the second child sees the first's parameters) and `merge`.
Others (clusters, SCM providers, pull requests, plugins) need a cluster or an API and
are reported as not evaluated. Path globbing follows ArgoCD: the git files generator's
default globbing lets `*` cross `/` (gobwas/glob without separators) unless the new
globbing (doublestar) is enabled; the directories generator uses Go's `path.Match`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from checks.core.findings import KeyPath
from checks.engines.gotemplate import MissingKey, NotEvaluated, render, render_legacy, tree_renderer
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore, YamlDocument
from checks.repo.globs import glob_match

GENERATOR_KINDS = ("list", "git", "matrix", "merge", "clusters", "scmProvider", "pullRequest",
                   "clusterDecisionResource", "plugin")


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

    @property
    def spec(self) -> dict:
        spec = self.value.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def go_template(self) -> bool:
        return self.spec.get("goTemplate") is True

    @property
    def strict(self) -> bool:
        return any("missingkey=error" in str(o) for o in self.spec.get("goTemplateOptions") or [])


@dataclass
class AppSource:
    index: int
    repo_url: str
    repo: str | None
    path: str | None
    ref: str | None
    value_files: list[str]
    ignore_missing: bool
    chart: str | None


@dataclass
class GeneratedApp:
    appset: AppSet
    name: str
    namespace: str | None
    sources: list[AppSource]
    single_source: bool

    @property
    def value_files(self) -> list[tuple[AppSource, int, str]]:
        return [(s, i, f) for s in self.sources for i, f in enumerate(s.value_files)]


@dataclass
class Problem:
    kind: str  # template-missing | not-evaluated | no-match | unknown-repo
    message: str
    key_path: KeyPath


@dataclass
class Generation:
    appset: AppSet
    apps: list[GeneratedApp] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True


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


# -- globbing ------------------------------------------------------------------------
def normalize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9-.]", "-", name)


# -- parameters ----------------------------------------------------------------------
def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(value, list):
        out[prefix.rstrip(".")] = yaml.safe_dump(value, default_flow_style=True).strip()
    else:
        out[prefix.rstrip(".")] = "" if value is None else (str(value).lower() if isinstance(value, bool)
                                                              else str(value))
    return out


def _path_params(path: str, is_file: bool, go: bool) -> dict[str, Any]:
    directory = posixpath.dirname(path) if is_file else path
    segments = [s for s in directory.split("/") if s]
    basename = segments[-1] if segments else ""
    if go:
        p: dict[str, Any] = {"path": directory, "basename": basename, "basenameNormalized": normalize(basename),
                             "segments": segments}
        if is_file:
            p["filename"] = posixpath.basename(path)
            p["filenameNormalized"] = normalize(posixpath.basename(path))
        return {"path": p}
    flat = {"path": directory, "path.basename": basename, "path.basenameNormalized": normalize(basename)}
    if is_file:
        flat["path.filename"] = posixpath.basename(path)
        flat["path.filenameNormalized"] = normalize(posixpath.basename(path))
    for i, seg in enumerate(segments):
        flat[f"path[{i}]"] = seg
    return flat


class Emulator:
    def __init__(self, store: DocumentStore, repo_for_url, new_globbing: bool = False,
                 path_filter=None) -> None:
        self.store = store
        self.repo_for_url = repo_for_url
        self.new_globbing = new_globbing
        # PR mode: only paths the change can affect produce Applications (matching still sees all)
        self.path_filter = path_filter
        self._renderers: dict[int, tuple[Any, Any]] = {}  # id(template) -> (template, its renderer)
        self._listings: dict[str, list[str]] = {}
        self._filtered_listings: dict[str, list[str]] = {}

    def _listing(self, repo: str) -> list[str]:
        if repo not in self._listings:
            self._listings[repo] = sorted(self.store.sources[repo].files())
        return self._listings[repo]

    def _filtered(self, repo: str) -> list[str]:
        """The listing through the PR-mode path filter, computed once for every generator."""
        if repo not in self._filtered_listings:
            keep = self.path_filter or (lambda path: True)
            self._filtered_listings[repo] = [f for f in self._listing(repo) if keep(f)]
        return self._filtered_listings[repo]

    def generate(self, appset: AppSet) -> Generation:
        gen = Generation(appset)
        generators = appset.spec.get("generators")
        if not isinstance(generators, list):
            return gen
        template = appset.spec.get("template") if isinstance(appset.spec.get("template"), dict) else {}
        if appset.spec.get("templatePatch"):
            gen.complete = False
            gen.problems.append(Problem("not-evaluated", "templatePatch is not evaluated", ("spec", "templatePatch")))
        for gi, generator in enumerate(generators):
            where: KeyPath = ("spec", "generators", gi)
            try:
                param_sets = self._params(generator, where, appset, None, gen)
            except NotEvaluated as exc:
                gen.complete = False
                gen.problems.append(Problem("not-evaluated", f"generator not evaluated: {exc}", where))
                continue
            own = generator.get("template") if isinstance(generator, dict) else None
            tmpl = _deep_merge(template, own) if isinstance(own, dict) else template
            for params in param_sets:
                app = self._render(appset, tmpl, params, gen, where)
                if app is not None:
                    gen.apps.append(app)
        return gen

    # generators -----------------------------------------------------------------------
    def _params(self, generator: Any, where: KeyPath, appset: AppSet, parent: dict | None,
                gen: Generation) -> list[dict]:
        if not isinstance(generator, dict) or len([k for k in generator if k in GENERATOR_KINDS]) != 1:
            raise NotEvaluated("a generator must have exactly one kind")
        kind = next(k for k in generator if k in GENERATOR_KINDS)
        body = generator[kind]
        if parent is not None:
            body = self._templated(body, parent, appset)
        if kind == "list":
            return self._list(body, appset)
        if kind == "git":
            return self._git(body, (*where, "git"), appset, gen)
        if kind == "matrix":
            children = body.get("generators") if isinstance(body, dict) else None
            if not isinstance(children, list) or len(children) != 2:
                raise NotEvaluated("a matrix needs exactly two child generators")
            out = []
            for p1 in self._params(children[0], (*where, "matrix", "generators", 0), appset, parent, gen):
                for p2 in self._params(children[1], (*where, "matrix", "generators", 1), appset, p1, gen):
                    out.append(_deep_merge(p1, p2) if appset.go_template else {**p1, **p2})
            return out
        if kind == "merge":
            children = body.get("generators") if isinstance(body, dict) else None
            keys = body.get("mergeKeys") if isinstance(body, dict) else None
            if not isinstance(children, list) or not children or not isinstance(keys, list):
                raise NotEvaluated("a merge needs generators and mergeKeys")
            base = self._params(children[0], (*where, "merge", "generators", 0), appset, parent, gen)
            for ci, child in enumerate(children[1:], start=1):
                for extra in self._params(child, (*where, "merge", "generators", ci), appset, parent, gen):
                    for item in base:
                        if all(_lookup(item, k) == _lookup(extra, k) for k in keys):
                            item.update(extra)
            return base
        raise NotEvaluated(f"the {kind} generator needs a cluster or an external API")

    def _templated(self, body: Any, parent: dict, appset: AppSet) -> Any:
        # one compiled renderer per template object: thousands of Applications share it
        key = id(body)
        entry = self._renderers.get(key)
        if entry is None or entry[0] is not body:
            entry = (body, tree_renderer(body))
            self._renderers[key] = entry
        renderer = entry[1]
        if renderer is None:
            return body
        if appset.go_template:
            strict = appset.strict
            return renderer(lambda s: render(s, parent, strict))
        flat = parent if all(isinstance(v, str) for v in parent.values()) else _flatten(parent)
        return renderer(lambda s: render_legacy(s, flat))

    def _list(self, body: Any, appset: AppSet) -> list[dict]:
        if not isinstance(body, dict):
            raise NotEvaluated("list generator without a body")
        elements = body.get("elements")
        if isinstance(body.get("elementsYaml"), str):
            try:
                elements = yaml.load(body["elementsYaml"], Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                raise NotEvaluated("elementsYaml is not YAML") from None
        if not isinstance(elements, list):
            raise NotEvaluated("list generator without elements")
        out = []
        for element in elements:
            if isinstance(element, dict):
                out.append(_copy_tree(element) if appset.go_template else _flatten(element))
        return out

    def _git(self, body: Any, where: KeyPath, appset: AppSet, gen: Generation) -> list[dict]:
        if not isinstance(body, dict):
            raise NotEvaluated("git generator without a body")
        repo = self.repo_for_url(str(body.get("repoURL", "")))
        if repo is None or repo not in self.store.sources:
            gen.problems.append(Problem("unknown-repo", f"repoURL {body.get('repoURL')!r} is neither repository "
                                        "given to this run: its generator is not evaluated", (*where, "repoURL")))
            raise NotEvaluated(f"repository {body.get('repoURL')}")
        files = self._listing(repo)
        values = body.get("values") if isinstance(body.get("values"), dict) else None
        if isinstance(body.get("files"), list):
            return self._git_files(body["files"], files, repo, (*where, "files"), appset, gen, values)
        if isinstance(body.get("directories"), list):
            return self._git_dirs(body["directories"], files, repo, (*where, "directories"), appset, gen, values)
        raise NotEvaluated("git generator without files or directories")

    def _git_files(self, entries: list, files: list[str], repo: str, where: KeyPath, appset: AppSet,
                   gen: Generation, values: dict | None) -> list[dict]:
        include = [(i, e["path"]) for i, e in enumerate(entries) if isinstance(e, dict)
                   and isinstance(e.get("path"), str) and e.get("exclude") is not True]
        exclude = [e["path"] for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)
                   and e.get("exclude") is True]
        mode = "doublestar" if self.new_globbing else "legacy"
        out: list[dict] = []
        # PR mode: match only the paths the change can affect; the whole listing only to tell
        # "matches nothing at all" from "matches nothing in this change"
        candidates = files if self.path_filter is None else self._filtered(repo)
        for i, pattern in include:
            def hit(f: str, pattern: str = pattern) -> bool:
                return glob_match(pattern, f, mode) and not any(glob_match(x, f, mode) for x in exclude)

            matched = [f for f in candidates if hit(f)]
            if not matched and (candidates is files or not any(hit(f) for f in files)):
                gen.problems.append(Problem("no-match", f"files path {pattern!r} matches no file: this generator "
                                            "produces nothing", (*where, i, "path")))
            for path in matched:
                parsed = self.store.get(repo, path)
                if parsed is None or not parsed.ok or parsed.first is None:
                    gen.problems.append(Problem("not-evaluated", f"{path} cannot be read as YAML or JSON",
                                                (*where, i, "path")))
                    gen.complete = False
                    continue
                content = parsed.first.value
                items = content if isinstance(content, list) else [content if content is not None else {}]
                for item in items:
                    if not isinstance(item, dict):
                        continue
                    if appset.go_template:
                        # a new top level over the cached document: nothing below it is ever changed
                        params = {**item, **_path_params(path, True, True)}
                    else:
                        params = {**_flatten(item), **_path_params(path, True, False)}
                    out.append(self._with_values(params, values, appset))
        return out

    def _git_dirs(self, entries: list, files: list[str], repo: str, where: KeyPath, appset: AppSet, gen: Generation,
                  values: dict | None) -> list[dict]:
        # PR mode: directories of the paths the change can affect; every directory only to tell
        # "matches nothing at all" from "matches nothing in this change"
        path_filter = self.path_filter
        dirs = _directories(files) if path_filter is None else {
            d for d in _directories(self._filtered(repo)) if path_filter(d + "/")}
        include = [(i, e["path"]) for i, e in enumerate(entries) if isinstance(e, dict)
                   and isinstance(e.get("path"), str) and e.get("exclude") is not True]
        exclude = [e["path"] for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)
                   and e.get("exclude") is True]
        out: list[dict] = []
        seen: set[str] = set()
        for i, pattern in include:
            def hit(d: str, pattern: str = pattern) -> bool:
                return glob_match(pattern, d, "pathmatch") and not any(glob_match(x, d, "pathmatch") for x in exclude)

            matched = sorted(d for d in dirs if hit(d))
            if not matched and (path_filter is None or not any(hit(d) for d in _directories(files))):
                gen.problems.append(Problem("no-match", f"directories path {pattern!r} matches no directory: this "
                                            "generator produces nothing", (*where, i, "path")))
            for d in matched:
                if d not in seen:
                    seen.add(d)
                    out.append(self._with_values(_path_params(d, False, appset.go_template), values, appset))
        return out

    def _with_values(self, params: dict, values: dict | None, appset: AppSet) -> dict:
        if not values:
            return params
        rendered = self._templated(values, params, appset)
        if appset.go_template:
            return {**params, "values": rendered}
        return {**params, **{f"values.{k}": str(v) for k, v in rendered.items()}}

    # templates --------------------------------------------------------------------------
    def _render(self, appset: AppSet, template: dict, params: dict, gen: Generation,
                where: KeyPath) -> GeneratedApp | None:
        try:
            rendered = self._templated(template, params, appset)
        except MissingKey as exc:
            gen.problems.append(Problem("template-missing", f"the template uses {exc}, which this generator does "
                                        "not provide: ArgoCD will fail to generate the application (missingkey=error)",
                                        ("spec", "template")))
            return None
        except NotEvaluated as exc:
            gen.complete = False
            gen.problems.append(Problem("not-evaluated", f"template expression not evaluated: {exc}",
                                        ("spec", "template")))
            return None
        meta = rendered.get("metadata") if isinstance(rendered.get("metadata"), dict) else {}
        spec = rendered.get("spec") if isinstance(rendered.get("spec"), dict) else {}
        dest = spec.get("destination") if isinstance(spec.get("destination"), dict) else {}
        raw_sources = spec.get("sources") if isinstance(spec.get("sources"), list) else (
            [spec["source"]] if isinstance(spec.get("source"), dict) else [])
        sources = []
        for i, src in enumerate(raw_sources):
            if not isinstance(src, dict):
                continue
            helm = src.get("helm") if isinstance(src.get("helm"), dict) else {}
            files = [str(f) for f in helm.get("valueFiles") or [] if isinstance(f, (str, int, float))]
            url = str(src.get("repoURL", ""))
            sources.append(AppSource(i, url, self.repo_for_url(url), src.get("path"), src.get("ref"), files,
                                     helm.get("ignoreMissingValueFiles") is True, src.get("chart")))
        return GeneratedApp(appset, str(meta.get("name", "")), dest.get("namespace"), sources,
                            not isinstance(spec.get("sources"), list))


def _directories(files: Any) -> set[str]:
    """Every folder holding a file, at any depth; hidden folders (".git", ".github") left out."""
    dirs = set()
    for f in files:
        parts = f.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:k]))
    return {d for d in dirs if not any(seg.startswith(".") for seg in d.split("/"))}


def _lookup(params: dict, key: str) -> Any:
    value: Any = params
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if value is not None else params.get(key)


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _deep_merge(base.get(k), v) if k in base else v
        return out
    return _copy_tree(over)


def _copy_tree(value: Any) -> Any:
    """A copy of parsed YAML (dicts, lists, scalars): deepcopy's memo and dispatch cost 10x more."""
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_tree(v) for v in value]
    return value


def git_file_patterns(value: Any) -> list[str]:
    """Every git `files` path pattern in an ApplicationSet (nested generators included)."""
    out: list[str] = []
    if isinstance(value, dict):
        git = value.get("git")
        if isinstance(git, dict) and isinstance(git.get("files"), list):
            out += [str(f["path"]) for f in git["files"] if isinstance(f, dict) and "path" in f]
        for v in value.values():
            out += git_file_patterns(v)
    elif isinstance(value, list):
        for v in value:
            out += git_file_patterns(v)
    return out


def can_change_applications(appsets: list[AppSet], changes: list[tuple[str, str]]) -> bool:
    """Whether changed configs files (status, path) can change what the ApplicationSets generate:
    an added, deleted or renamed file changes the listings generators match; a modified file
    matters only when a git files generator reads it (matched here with the widest globbing)."""
    patterns = [p for a in appsets for p in git_file_patterns(a.spec.get("generators"))]
    if any("{{" in p for p in patterns):
        return True  # a templated pattern could read anything
    return any(status != "M" or any(glob_match(p, path, "legacy") for p in patterns) for status, path in changes)


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
    entry = entry.removeprefix("secrets://")
    if entry.startswith("$"):
        ref, _, rest = entry[1:].partition("/")
        for src in app.sources:
            if src.ref == ref:
                return src.repo, posixpath.normpath(rest)
        return None, rest
    if source.path is None:
        return source.repo, entry
    return source.repo, posixpath.normpath(posixpath.join(str(source.path), entry))


LAYER_RANK = (
    (re.compile(r"^products/[^/]+/base-values\.ya?ml$"), 1),
    (re.compile(r"^products/[^/]+/environments/[^/]+\.ya?ml$"), 2),
    (re.compile(r"^customers/[^/]+/[^/]+/values\.ya?ml$"), 3),
    (re.compile(r"^customers/[^/]+/[^/]+/environments/[^/]+\.ya?ml$"), 4),
)


def layer_rank(path: str) -> int | None:
    for pattern, rank in LAYER_RANK:
        if pattern.match(path):
            return rank
    return None
