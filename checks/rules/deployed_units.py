"""Deployed units: what each generated Application really deploys -- its chart's defaults plus its
own value files, in its order, read at the revision its sources name -- computed once per run and
shared (typed `Shared` slots) by every check that looks at deployed values (`appset/deployed-values`,
`appset/deployed-policy`, `appset/deployed-secrets`, `appset/coverage`) and by the diffs.

A deployed unit whose values equal its four-layer unit's (customer, product, environment of
products.yaml) is `as_unit`: the unit checks (`schema/values`, `policy/rego`) already report on
exactly those values, so the deployed checks leave it to them -- one finding per problem, not one
per model. Only where an Application deploys other values than the four-layer model says is it
checked as a unit of its own, and then only what differs is reported (naming the Application):
a problem its four-layer unit has too (same rule or keyword, message and key) is the unit check's
finding already. An Application that names no environment (the architecture's Patterns 1, 3, 4:
base and customer values) is compared with each environment's unit of its customer's product.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from checks.engines.appsets import AppSource, GeneratedApp, Generation, value_file_ref
from checks.engines.ref_revisions import RevisionStores, is_checked_tree
from checks.model.platform import CHART_VALUES, CONFIGS, INFRA, Unit, layer_paths
from checks.model.values import EffectiveValues, Layer, compute
from checks.repo.documents import DocumentStore
from checks.rules.application_checks import application_environment
from checks.rules.appset_checks import app_customer, generations
from checks.runner.context import Shared

if TYPE_CHECKING:
    from checks.runner.context import Context


class ValueFile(NamedTuple):  # a tuple: hashed and compared in C, as every Application's files are grouped
    repo: str
    path: str
    revision: str | None = None  # None: the tree checked; else the `$values` ref's targetRevision

    @property
    def shown(self) -> str:
        return self.path if self.revision is None else f"{self.path}@{self.revision}"


@dataclass(slots=True)  # read, never changed (one per generated Application: not frozen, made faster)
class Deployed:
    """One generated Application that deploys a product chart with customer-configs value files."""

    app: GeneratedApp
    gen: Generation
    unit: Unit  # customer, product, environment ("" when the Application names none)
    files: tuple[ValueFile, ...]  # in Helm's order, chart defaults first
    complete: bool  # every value file it names could be read
    unread: tuple[tuple[str, str], ...] = ()  # (revision, why): refs whose revision git does not have

    @property
    def paths(self) -> set[tuple[str, str]]:
        return {(f.repo, f.path) for f in self.files}


@dataclass
class DeployedUnit:
    """The Applications deploying one set of value files for one unit, and the values they deploy."""

    unit: Unit
    files: tuple[ValueFile, ...]
    values: EffectiveValues | None  # None: exactly the four-layer files (not computed twice)
    as_unit: bool  # equal to the four-layer unit's values: the unit checks cover it
    apps: list[Deployed] = field(default_factory=list)
    # the four-layer units of the same deployment (products.yaml's): its environment's, or every
    # environment's for an Application naming none; a problem one of them has is the unit checks' finding
    comparable: tuple[Unit, ...] = ()

    @property
    def revisions(self) -> list[str]:
        return sorted({f.revision for f in self.files if f.revision is not None})

    def note(self) -> str:
        """What a finding adds after the Applications' names: where the values came from."""
        read = f"; read at {', '.join(self.revisions)}" if self.revisions else ""
        return f"from their own value files{read}"


def chart_source(app: GeneratedApp) -> tuple[AppSource | None, str | None]:
    for source in app.sources:
        if source.repo == INFRA and not source.chart:
            product = _chart_product(str(source.path or ""))
            if product is not None:
                return source, product
    return None, None


@functools.lru_cache(maxsize=1 << 12)  # one chart path per product, named by thousands of Applications
def _chart_product(path: str) -> str | None:
    """The product whose chart a source path names (`products/<p>`), else None."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "products" else None


DEPLOYED: Shared[list[Deployed]] = Shared("appset-deployed")
DEPLOYED_UNITS: Shared[list[DeployedUnit]] = Shared("deployed-units")
FOUR_LAYER_FILES: Shared[dict[Unit, tuple[ValueFile, ...]]] = Shared("four-layer-files")
TREE_FILES: Shared[dict[tuple[str | None, str], ValueFile | None]] = Shared("deployed-tree-files")
REVISION_STORES: Shared[RevisionStores] = Shared("ref-revision-stores")


def revision_stores(ctx: Context) -> RevisionStores:
    return ctx.shared(REVISION_STORES, lambda: RevisionStores(
        ctx.sources[CONFIGS], CONFIGS, ctx.settings.limits, ctx.store.share()))


def deployed_applications(ctx: Context) -> list[Deployed]:
    return ctx.shared(DEPLOYED, lambda: _deployed_applications(ctx))


def _deployed_applications(ctx: Context) -> list[Deployed]:
    out: list[Deployed] = []
    environments = set(ctx.settings.environments)
    branch = ctx.settings.appset_branch
    store: DocumentStore = ctx.store
    # what thousands of Applications share, worked out once: a product's chart values file, whether
    # a revision is the tree checked, a value file (repo, path, revision) and whether it exists
    chart_files: dict[str, ValueFile | None] = {}
    checked_tree: dict[str | None, bool] = {}
    value_files = _tree_files(ctx)
    sources = ctx.sources
    parameters = ["env", "environment"]
    for gen in generations(ctx):
        for app in gen.apps:
            source, product = chart_source(app)
            if source is None or product is None:
                continue
            customer = app_customer(app)
            if customer is None:
                continue
            files: list[ValueFile] = []
            if product not in chart_files:
                chart_files[product] = _tree_file(ctx, INFRA, CHART_VALUES.format(p=product))
            chart_file = chart_files[product]
            if chart_file is not None:
                files.append(chart_file)
            complete = True
            unread: list[tuple[str, str]] = []
            for (src, _, entry), where in zip(app.value_files, app.value_paths, strict=True):
                if entry.startswith("secrets://"):
                    continue  # helm-secrets decrypts these; secrets never enter the values checked here
                repo, path = where
                if repo is None or repo not in sources:
                    complete = False
                    continue
                revision = None
                if repo == CONFIGS and entry.startswith("$"):
                    ref = value_file_ref(entry)
                    for ref_source in app.sources:  # the first source with that ref, as resolving it found
                        if ref_source.ref == ref:
                            revision = ref_source.target_revision
                            break
                if revision is not None and not isinstance(revision, str):
                    # `targetRevision: 2` (a YAML number), a map: no revision git could read (the CRD
                    # wants a string: appset/crd reports it); these values are not checked, and say so
                    complete = False
                    shown = str(revision) if isinstance(revision, (int, float)) else f"<{type(revision).__name__}>"
                    reason = (shown, "targetRevision is not a string (the API server rejects it: see appset/crd)")
                    if reason not in unread:
                        unread.append(reason)
                    continue
                if revision is not None:
                    checked = checked_tree.get(revision)
                    if checked is None:
                        checked = checked_tree[revision] = is_checked_tree(revision, branch)
                    if checked:
                        revision = None
                if revision is not None:
                    revision = revision.strip()
                    at, why = revision_stores(ctx).store(revision)
                    if at is None:
                        complete = False
                        if (revision, why) not in unread:
                            unread.append((revision, why))
                        continue
                    found = ValueFile(repo, path, revision) if at.exists(repo, path) else None
                elif where in value_files:
                    found = value_files[where]
                else:
                    found = value_files[where] = ValueFile(repo, path) if store.exists(repo, path) else None
                if found is None:
                    complete = complete and src.ignore_missing  # else appset/value-files reports it
                    continue
                files.append(found)
            env = application_environment(app, parameters, environments) or ""
            out.append(Deployed(app, gen, Unit(customer, product, env), tuple(files), complete, tuple(unread)))
    return out


def four_layer_files(ctx: Context, unit: Unit) -> tuple[ValueFile, ...]:
    """The files the four-layer model layers for a unit, as they exist (once per unit and run)."""
    memo = ctx.shared(FOUR_LAYER_FILES, dict)
    found = memo.get(unit)
    if found is None:
        chart = _tree_file(ctx, INFRA, CHART_VALUES.format(p=unit.product))
        files = [] if chart is None else [chart]
        for _, path in layer_paths(unit):
            file = _tree_file(ctx, CONFIGS, path)
            if file is not None:
                files.append(file)
        found = memo[unit] = tuple(files)
    return found


def _tree_file(ctx: Context, repo: str, path: str) -> ValueFile | None:
    known = _tree_files(ctx)
    key = (repo, path)
    if key in known:
        return known[key]
    found = known[key] = ValueFile(repo, path) if ctx.store.exists(repo, path) else None
    return found


def _tree_files(ctx: Context) -> dict[tuple[str | None, str], ValueFile | None]:
    """A value file of the tree checked by (repo, path), None where it does not exist: asked for every
    Application's files and every unit's four layers, most of them the same files (one ValueFile each)."""
    return ctx.shared(TREE_FILES, dict)


def layers_of(ctx: Context, files: tuple[ValueFile, ...], helm_major: int) -> list[Layer] | None:
    """The files as Helm layers them (every document with Helm 4, the first with Helm 3); None when
    one cannot be used (yaml/* reports a file of the tree checked)."""
    layers: list[Layer] = []
    for f in files:
        store = ctx.store if f.revision is None else revision_stores(ctx).store(f.revision)[0]
        parsed = store.get(f.repo, f.path) if store is not None else None
        if parsed is None or not parsed.ok:
            return None
        docs = parsed.documents[:1] if helm_major == 3 else parsed.documents
        for i, doc in enumerate(docs):
            if doc.value is None:
                continue
            if not isinstance(doc.value, dict):
                return None
            label = "chart defaults" if f.repo == INFRA else (
                "value file" if f.revision is None else f"value file at {f.revision}")
            layers.append(Layer(label, f.repo, f.path, doc, i))
    return layers


def deployed_values(ctx: Context, files: tuple[ValueFile, ...], unit: Unit) -> EffectiveValues | None:
    layers = layers_of(ctx, files, ctx.settings.helm_major)
    if layers is None:
        return None
    # the product-level merge memo is keyed by path: only for files of the tree checked
    memo = ctx.revision.layer_memo if all(f.revision is None for f in files) else None
    return compute(unit, layers, ctx.settings.helm_major, memo)


def deployed_units(ctx: Context) -> list[DeployedUnit]:
    """Every distinct (unit, value files) the Applications in scope deploy, with its values."""
    return ctx.shared(DEPLOYED_UNITS, lambda: _deployed_units(ctx))


def _deployed_units(ctx: Context) -> list[DeployedUnit]:
    grouped: dict[tuple[Unit, tuple[ValueFile, ...]], list[Deployed]] = defaultdict(list)
    full = ctx.scope.full
    for d in deployed_applications(ctx):
        if d.complete and (full or ctx.scope.includes_unit(d.unit)):
            grouped[(d.unit, d.files)].append(d)
    by_product: dict[tuple[str, str], list[Unit]] | None = None
    out = []
    for (unit, files), apps in grouped.items():
        if unit.environment and files == four_layer_files(ctx, unit):
            # exactly the four-layer files: the same values, without computing them
            out.append(DeployedUnit(unit, files, None, True, apps, (unit,)))
            continue
        ev = deployed_values(ctx, files, unit)
        if ev is None:
            continue
        if by_product is None:
            by_product = defaultdict(list)
            for u in ctx.model.units():
                by_product[(u.customer, u.product)].append(u)
        # the four-layer units the unit checks report on for the same deployment: its own environment's,
        # or, for an Application that names no environment, each environment's of that customer's product
        comparable = tuple(u for u in by_product.get((unit.customer, unit.product), [])
                           if not unit.environment or u.environment == unit.environment)
        as_unit = False
        if unit.environment and comparable:
            unit_ev, _ = ctx.values(unit)
            as_unit = unit_ev is not None and unit_ev.values == ev.values
        out.append(DeployedUnit(unit, files, ev, as_unit, apps, comparable))
    return out
