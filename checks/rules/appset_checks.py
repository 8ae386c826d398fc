"""`appset/*`: what the ApplicationSets will generate, and whether every file it needs exists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from checks.core.findings import Finding, Severity
from checks.engines.app_generation import UNTIED
from checks.engines.appsets import (
    GeneratedApp,
    Generation,
    layer_rank,
    shown_name,
)
from checks.engines.jsonschemas import explain, extended_validator
from checks.model.platform import CONFIGS, INFRA
from checks.runner.app_merge import apps_text
from checks.runner.registry import Check, Partial, register

if TYPE_CHECKING:
    from checks.runner.context import Context



def generations(ctx: Context) -> list[Generation]:
    return ctx.appset_generations()


def _line(gen: Generation, path: tuple) -> int | None:
    pos = gen.appset.document.locate(path)
    return pos[0] if pos else None


def _apps_text(apps: list[GeneratedApp], example: Callable[[GeneratedApp], str] | None = None) -> str:
    """"N applications: a, b, c, d and N-4 more", over every worker's part (runner/app_merge.py)."""
    return apps_text(apps, example)


class _AppsetCheck(Check):
    whole_platform = True  # looks at generated Applications: each worker at its part of them
    subject = "appset"
    def at(self, gen: Generation, path: tuple, message: str, **kw) -> Finding:
        return self.finding(message, repo=gen.appset.repo, path=gen.appset.path, line=_line(gen, path),
                            key_path=(gen.appset.name, *path), **kw)


@register
class Schema(_AppsetCheck):
    """Every ApplicationSet has the essentials of its CRD: generators (each of one known kind),
    a template with a name and a destination, sources with a repoURL, sane syncPolicy.

    Passes:   generators: [{git: {repoURL: 'https://git.example.com/customer-configs.git', revision: main,
                                  files: [{path: 'customers/*/*/values.yaml'}]}}]
    Fails:    generators: [{git: {repoURL: 'https://git.example.com/customer-configs.git', revision: main,
                                  file: [{path: 'customers/*/*/values.yaml'}]}}]     (files misspelled)
    """

    id = "appset/schema"

    def run(self, ctx: Context) -> Iterator[Finding]:
        validator = extended_validator("applicationset", None)
        for gen in generations(ctx):
            for error in validator.iter_errors(gen.appset.value):
                path, message, keyword = explain(error)
                yield self.at(gen, path, message, discriminator=keyword)


@register
class Template(_AppsetCheck):
    """The ApplicationSet generates as ArgoCD generates it. Whatever makes ArgoCD fail the
    generation is an error, and then none of its Applications is checked, as none would be
    changed: a template that does not parse or execute in Go, a field the parameters lack
    under `missingkey=error`, a matrix or merge of the wrong shape, fasttemplate matrix
    children disagreeing on a key, an unreadable file a git files generator matches.
    What is not evaluated (cluster, SCM, pull-request and plugin generators, functions that
    read the clock or randomness, `templatePatch`) is a notice naming it -- never a guess.

    Passes:   name: '{{ index .path.segments 1 }}-{{ .path.basename }}'
    Fails:    name: '{{ .customer }}-billing'    (no `customer` parameter; missingkey=error)
    """

    id = "appset/template"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for gen in generations(ctx):
            seen: set[tuple] = set()
            for p in gen.problems:
                if p.kind in ("error", "not-evaluated", "unknown-repo") and (p.kind, p.message) not in seen:
                    seen.add((p.kind, p.message))
                    sev = Severity.ERROR if p.kind == "error" else Severity.NOTICE
                    yield self.at(gen, p.key_path, p.message, severity=sev, discriminator=p.message)


@register
class Generators(_AppsetCheck):
    """A generator that matches no file or directory generates nothing -- silently, in ArgoCD.

    Passes:   files: [{path: "customers/*/*/values.yaml"}]
    Fails:    files: [{path: "customer/*/*/values.yaml"}]       (typo: nothing matches)
    """

    id = "appset/generators"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Finding]:
        for gen in generations(ctx):
            for p in gen.problems:
                if p.kind == "no-match":
                    yield self.at(gen, p.key_path, p.message, discriminator=p.message)


@register
class UniqueNames(_AppsetCheck):
    """Application names are unique across all ApplicationSets (ArgoCD would fight over them).

    Passes:   name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}'
    Fails:    name: '{{ index .path.segments 1 }}'      (acme twice: its billing and its search)
    Fails:    -- infra:applicationsets/billing.yaml --     (a second ApplicationSet also makes acme-billing)
              apiVersion: argoproj.io/v1alpha1
              kind: ApplicationSet
              metadata: {name: billing}
              spec:
                generators: [{list: {elements: [{customer: acme}]}}]
                template:
                  metadata: {name: '{{customer}}-billing'}
                  spec:
                    project: default
                    source: {repoURL: 'https://git.example.com/platform-infrastructure.git', path: products/billing}
                    destination: {server: 'https://kubernetes.default.svc', namespace: '{{customer}}'}
    """

    id = "appset/unique-names"

    def run(self, ctx: Context) -> Iterator[Finding | Partial]:
        # each worker its part of the names; conclude() finds the duplicates among all of them
        names = []
        for gen in generations(ctx):
            if not gen.apps:
                continue
            own = [a.name for a in gen.apps if a.order[1:2] != (UNTIED,)]
            shared = {a.order[2]: a.name for a in gen.apps if a.order[1:2] == (UNTIED,)}
            where = self.at(gen, ("spec", "template", "metadata", "name"), "")
            names.append(((gen.appset.path, gen.appset.index), gen.appset.name, where, own, shared))
        yield Partial(self.id, names)

    def conclude(self, ctx: Context, parts: list[Any]) -> Iterator[Finding]:
        sets: dict[tuple, tuple[str, Finding, list[str], dict[int, str]]] = {}
        for part in parts:
            for key, name, where, own, shared in part:
                if key not in sets:
                    sets[key] = (name, where, [], {})
                sets[key][2].extend(own)
                sets[key][3].update(shared)  # every worker generates these: once
        first: dict[str, tuple] = {}
        dupes: dict[tuple, list[str]] = defaultdict(list)
        for key in sorted(sets):  # the order of generation: files, then documents
            name, _, own, shared = sets[key]
            for app_name in [*(shared[i] for i in sorted(shared)), *own]:
                owner = first.get(app_name)
                if owner is None:
                    first[app_name] = key
                else:
                    dupes[(key, owner)].append(app_name)
        for (key, owner), app_names in dupes.items():
            other, other_path = sets[owner][0], owner[0]
            yield replace(sets[key][1], message=f"{len(app_names)} generated names already used by ApplicationSet "
                          f"{other} ({other_path}): {', '.join(sorted({shown_name(n) for n in app_names})[:4])}",
                          discriminator=other)


@register
class ValueFiles(_AppsetCheck):
    """Every `helm.valueFiles` entry of every generated Application exists (through `$ref/`
    sources too), unless `ignoreMissingValueFiles` is set: a missing one makes the app fail
    to render.

    Passes:   valueFiles: ['$values/customers/{{ index .path.segments 1 }}/billing/values.yaml']   (exists)
    Fails:    valueFiles: ['$values/customers/{{ index .path.segments 1 }}/billing/value.yaml']    (typo)
    """

    id = "appset/value-files"

    def run(self, ctx: Context) -> Iterator[Finding]:
        missing: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        gens = {}
        sources, exists = ctx.sources, ctx.store.exists
        found: dict[tuple[str | None, str], bool] = {}  # a product's files are named by thousands of Applications
        for gen in generations(ctx):
            for app in gen.apps:
                paths = app.value_paths
                at = 0  # value_paths lists every source's value files in turn
                for source in app.sources:
                    count = len(source.value_files)
                    if source.ignore_missing:
                        at += count
                        continue
                    for index in range(count):
                        pair = paths[at + index]
                        there = found.get(pair)
                        if there is None:
                            repo, path = pair
                            there = found[pair] = repo is None or repo not in sources or exists(repo, path)
                        if not there:
                            key = (id(gen), source.index, index, app.single_source)
                            gens[id(gen)] = gen
                            missing[key].append(app)
                    at += count
        for (gid, si, vi, single), apps in missing.items():
            gen = gens[gid]
            where = ("spec", "template", "spec", "source", "helm", "valueFiles", vi) if single else (
                "spec", "template", "spec", "sources", si, "helm", "valueFiles", vi)
            yield self.at(gen, where, f"value file missing for {_apps_text(apps)} (set ignoreMissingValueFiles "
                          "if that is intended)", discriminator=f"{si}|{vi}")


@register
class ChartPath(_AppsetCheck):
    """The chart `path` of each generated Application exists in platform-infrastructure.

    Passes:   path: 'products/{{ index .path.segments 2 }}'   (products/billing/Chart.yaml exists)
    Fails:    path: 'charts/{{ index .path.segments 2 }}'
    """

    id = "appset/chart-path"

    def run(self, ctx: Context) -> Iterator[Finding]:
        missing: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        gens = {}
        dirs = {"/".join(p.split("/")[:k]) for p in ctx.sources[INFRA].files()
                for k in range(1, p.count("/") + 1)} if INFRA in ctx.sources else set()
        for gen in generations(ctx):
            for app in gen.apps:
                for source in app.sources:
                    if source.repo != INFRA or source.path is None or source.chart:
                        continue
                    if str(source.path).strip("/") not in dirs:
                        gens[id(gen)] = gen
                        missing[(id(gen), source.index, app.single_source)].append(app)
        for (gid, si, single), apps in missing.items():
            gen = gens[gid]
            where = ("spec", "template", "spec", "source", "path") if single else (
                "spec", "template", "spec", "sources", si, "path")
            yield self.at(gen, where, f"chart path does not exist in platform-infrastructure for {_apps_text(apps)}",
                          discriminator=str(si))


def app_customer(app: GeneratedApp) -> str | None:
    for repo, path in app.value_paths:
        if repo == CONFIGS and path.startswith("customers/") and path.count("/") >= 2:
            return path.split("/", 2)[1]
    for source in app.sources:
        parts = str(source.path or "").split("/")
        if source.repo == CONFIGS and len(parts) > 2 and parts[0] == "customers":
            return parts[1]
    return None


@register
class Namespace(_AppsetCheck):
    """An Application built from a customer's files deploys into that customer's namespace
    (`<customer>` or `<customer>-...`): one customer's values must never land in another's.

    Passes:   namespace: '{{ index .path.segments 1 }}'
    Fails:    namespace: 'default'
    """

    id = "appset/namespace"

    def run(self, ctx: Context) -> Iterator[Finding]:
        wrong: dict[int, list[GeneratedApp]] = defaultdict(list)
        gens = {}
        for gen in generations(ctx):
            for app in gen.apps:
                customer = app_customer(app)
                ns = app.namespace or ""
                if customer and ns != customer and not ns.startswith(customer + "-"):
                    gens[id(gen)] = gen
                    wrong[id(gen)].append(app)
        for gid, apps in wrong.items():
            gen = gens[gid]
            yield self.at(gen, ("spec", "template", "spec", "destination", "namespace"),
                          "destination namespace is not the customer's for "
                          + _apps_text(apps, lambda a: f"{shown_name(a.name)} -> {shown_name(a.namespace)}"))


@register
class ValueOrder(_AppsetCheck):
    """`valueFiles` follow the four-layer order (product base, product environment, customer
    product, customer environment): later files win in Helm, so another order silently
    changes which value applies.

    Passes:   valueFiles:
              - '$values/products/{{ .path.basename }}/base-values.yaml'
              - '$values/{{ .path.path }}/values.yaml'
    Fails:    valueFiles:
              - '$values/{{ .path.path }}/values.yaml'
              - '$values/products/{{ .path.basename }}/base-values.yaml'
    """

    id = "appset/value-order"
    severity = Severity.NOTICE

    def run(self, ctx: Context) -> Iterator[Finding]:
        for gen in generations(ctx):
            bad = []
            for app in gen.apps:
                ranks = [rank for _, path in app.value_paths if (rank := layer_rank(path)) is not None]
                if ranks != sorted(ranks):
                    bad.append(app)
            if bad:
                yield self.at(gen, ("spec", "template", "spec"),
                              f"valueFiles are not in the four-layer order for {_apps_text(bad)}")
