"""What ArgoCD deploys, checked as deployed: the effective values of each generated Application
from its own value files in its own order (`appset/deployed-values`), and where the Applications
and the four-layer model of products.yaml disagree (`appset/coverage`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from checks.core.findings import Finding, KeyPath, Severity
from checks.engines.appsets import GeneratedApp, Generation, resolve_value_file
from checks.engines.jsonschemas import explain
from checks.model.platform import CHART_VALUES, CONFIGS, INFRA, Unit, layer_paths
from checks.model.unitgroups import locate
from checks.model.values import Layer, compute
from checks.rules.application_checks import application_environment
from checks.rules.appset_checks import _apps_text, _AppsetCheck, app_customer, generations
from checks.rules.schema_checks import distinct_schemas, product_schemas
from checks.runner.context import Shared
from checks.runner.registry import register

if TYPE_CHECKING:
    from checks.runner.context import Context


@dataclass(frozen=True)
class Deployed:
    """One generated Application that deploys a product chart with customer-configs value files."""

    app: GeneratedApp
    gen: Generation
    unit: Unit  # customer, product, environment ("" when the Application names none)
    files: tuple[tuple[str, str], ...]  # (repo, path) in Helm's order, chart defaults first
    complete: bool  # every value file it names could be read


def _chart_source(app: GeneratedApp):
    for source in app.sources:
        path = str(source.path or "").strip("/")
        parts = path.split("/")
        if source.repo == INFRA and not source.chart and len(parts) == 2 and parts[0] == "products":
            return source, parts[1]
    return None, None


DEPLOYED: Shared[list[Deployed]] = Shared("appset-deployed")
FOUR_LAYER_FILES: Shared[dict[Unit, tuple[tuple[str, str], ...]]] = Shared("four-layer-files")


def deployed_applications(ctx: Context) -> list[Deployed]:
    return ctx.shared(DEPLOYED, lambda: _deployed_applications(ctx))


def _deployed_applications(ctx: Context) -> list[Deployed]:
    out: list[Deployed] = []
    environments = set(ctx.settings.environments)
    for gen in generations(ctx):
        for app in gen.apps:
            source, product = _chart_source(app)
            if source is None:
                continue
            # each value file resolved once: thousands of Applications
            resolved = [(src, entry, resolve_value_file(app, src, entry)) for src, _, entry in app.value_files]
            customer = next((path.split("/", 2)[1] for _, _, (repo, path) in resolved
                             if repo == CONFIGS and path.startswith("customers/") and path.count("/") >= 2), None)
            if customer is None:
                customer = app_customer(app)
            if customer is None:
                continue
            files: list[tuple[str, str]] = []
            chart_values = CHART_VALUES.format(p=product)
            if ctx.store.exists(INFRA, chart_values):
                files.append((INFRA, chart_values))
            complete = True
            for src, entry, (repo, path) in resolved:
                if entry.startswith("secrets://"):
                    continue  # helm-secrets decrypts these; secrets never enter the values checked here
                if repo is None or repo not in ctx.sources:
                    complete = False
                    continue
                if not ctx.store.exists(repo, path):
                    complete = complete and src.ignore_missing  # else appset/value-files reports it
                    continue
                files.append((repo, path))
            env = application_environment(app, ["env", "environment"], environments) or ""
            out.append(Deployed(app, gen, Unit(customer, product, env), tuple(files), complete))
    return out


def four_layer_files(ctx: Context, unit: Unit) -> tuple[tuple[str, str], ...]:
    """The files the four-layer model layers for a unit, as they exist (once per unit and run)."""
    memo = ctx.shared(FOUR_LAYER_FILES, dict)
    if unit not in memo:
        memo[unit] = _four_layer_files(ctx, unit)
    return memo[unit]


def _four_layer_files(ctx: Context, unit: Unit) -> tuple[tuple[str, str], ...]:
    files = []
    chart_values = CHART_VALUES.format(p=unit.product)
    if INFRA in ctx.sources and ctx.store.exists(INFRA, chart_values):
        files.append((INFRA, chart_values))
    for _, path in layer_paths(unit):
        if ctx.store.exists(CONFIGS, path):
            files.append((CONFIGS, path))
    return tuple(files)


def _layers(ctx: Context, files: tuple[tuple[str, str], ...], helm_major: int) -> list[Layer] | None:
    layers: list[Layer] = []
    for repo, path in files:
        parsed = ctx.store.get(repo, path)
        if parsed is None or not parsed.ok:
            return None  # yaml/* reports the file
        docs = parsed.documents[:1] if helm_major == 3 else parsed.documents
        for i, doc in enumerate(docs):
            if doc.value is None:
                continue
            if not isinstance(doc.value, dict):
                return None
            label = "chart defaults" if repo == INFRA else "value file"
            layers.append(Layer(label, repo, path, doc, i))
    return layers


@register
class DeployedValues(_AppsetCheck):
    """Each generated Application's own values -- its value files, in its order -- pass the product's schema.

    ArgoCD hands Helm the Application's `valueFiles`, not the four-layer convention: an
    ApplicationSet that uses two layers, or another order, deploys other values than the
    four-layer units that `schema/values` checks. Those Applications are validated here, with
    the file and line that set each offending value; an Application whose files are exactly a
    four-layer unit's is already covered by `schema/values`. Secrets (`secrets://`) never enter.

    Passes:   valueFiles: ['$values/products/billing/base-values.yaml', '$values/customers/acme/billing/values.yaml']
              -- products/billing/base-values.yaml --
              replicaCount: 0
    Fails:    valueFiles: ['$values/customers/acme/billing/values.yaml', '$values/products/billing/base-values.yaml']
              -- products/billing/base-values.yaml --     (the base's replicaCount: 0 now wins)
              replicaCount: 0
    """

    id = "appset/deployed-values"

    def run(self, ctx: Context) -> Iterator[Finding]:
        helm = ctx.settings.helm_major
        memo = ctx.revision.layer_memo
        checked: dict[tuple, list] = {}  # files -> validation problems, computed once per distinct file list
        grouped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        gens: dict[tuple, Generation] = {}
        for d in deployed_applications(ctx):
            if not d.complete or not (ctx.scope.full or ctx.scope.includes_unit(d.unit)):
                continue
            if d.unit.environment and d.files == four_layer_files(ctx, d.unit):
                continue  # exactly a four-layer unit: schema/values validates these values
            if d.files not in checked:
                checked[d.files] = self._problems(ctx, d, helm, memo)
            for problem in checked[d.files]:
                key = (d.gen.appset.path, d.gen.appset.index, *problem)
                grouped[key].append(d.app)
                gens[key] = d.gen
        for key, apps in grouped.items():
            _, _, repo, path, line, column, key_path, message, keyword = key
            gen = gens[key]
            yield self.finding(f"{message} (deployed by {_apps_text(apps)} of ApplicationSet {gen.appset.name}, "
                               "from their own value files)", repo=repo, path=path, line=line, column=column,
                               key_path=key_path, discriminator=f"{gen.appset.path}|{keyword}|{message}")

    def _problems(self, ctx: Context, d: Deployed, helm: int, memo: dict) -> list[tuple]:
        layers = _layers(ctx, d.files, helm)
        if layers is None:
            return []
        ev = compute(d.unit, layers, helm, memo)
        out = []
        for schema in distinct_schemas(ctx, product_schemas(ctx, d.unit.product)):
            validator = schema.validator
            if validator is None:  # not usable
                continue
            try:
                errors = list(validator.iter_errors(ev.values))
            except Exception:  # noqa: S112 -- a schema that fails is schema/values' finding
                continue
            for error in errors:
                key_path, message, keyword = explain(error)
                where = locate(ev, key_path, keyword)
                out.append((where.repo, where.path, where.line, where.column, tuple(key_path), message, keyword))
        return out


@register
class Coverage(_AppsetCheck):
    """The ApplicationSets deploy what products.yaml subscribes to, with every layer that exists.

    Where the generated Applications and the four-layer model disagree: an Application for a
    product the customer does not subscribe to (or disabled, or an environment its subscription
    excludes) -- the architecture's Pattern 3 promises "only enabled products are deployed";
    an enabled subscription no Application deploys; an Application for an environment that
    leaves out a layer file that exists.

    Passes:   products: [billing, search]                           (the ApplicationSet deploys both)
    Fails:    products: [billing, {name: search, enabled: false}]   (an ApplicationSet still generates acme-search)
    """

    id = "appset/coverage"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Finding]:
        complete = bool(generations(ctx)) and all(g.complete for g in generations(ctx))
        deployed = deployed_applications(ctx)
        model = ctx.model
        unsubscribed: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        skipped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        seen: set[tuple[str, str, str]] = set()
        seen_any_env: set[tuple[str, str]] = set()
        for d in deployed:
            c, p, e = d.unit.customer, d.unit.product, d.unit.environment
            if not ctx.scope.full and not ctx.scope.includes_file(CONFIGS, f"customers/{c}/products.yaml"):
                continue
            customer = model.customers.get(c)
            if customer is None or c in model.unreadable:
                continue
            seen.add((c, p, e))
            seen_any_env.add((c, p))
            sub = next((s for s in customer.subscriptions if s.product == p), None)
            if sub is None or not sub.enabled or (e and e not in sub.environments):
                why = ("not subscribed" if sub is None else "disabled" if not sub.enabled
                       else f"environment {e} not subscribed")
                unsubscribed[(id(d.gen), c, p, why)].append(d.app)
                continue
            if e:
                missing = [path for repo, path in four_layer_files(ctx, d.unit) if (repo, path) not in d.files]
                if missing:
                    skipped[(id(d.gen), tuple(missing))].append(d.app)
        gens = {id(g): g for g in generations(ctx)}
        for (gid, customer, product, why), apps in unsubscribed.items():
            gen = gens[gid]
            yield self.at(gen, ("spec", "generators"), f"{customer}/{product}: {why} in "
                          f"customers/{customer}/products.yaml, yet deployed by {_apps_text(apps)}",
                          customer=customer, product=product, discriminator=f"{customer}|{product}|{why}")
        for (gid, missing), apps in skipped.items():
            gen = gens[gid]
            yield self.at(gen, (*apps[0].template_path, "spec"),
                          f"{_apps_text(apps)} leave out {', '.join(missing[:3])}"
                          f"{' and more' if len(missing) > 3 else ''}, which the four-layer model layers",
                          discriminator="|".join(missing[:3]))
        if not complete or not ctx.scope.full:
            # an ApplicationSet not (fully) generated, or a run that generates only what a change can
            # affect: "nothing deploys it" would be a guess
            return
        for unit in ctx.units():
            if (unit.customer, unit.product, unit.environment) in seen or \
                    (unit.customer, unit.product, "") in seen:
                continue
            yield self.finding(f"{unit.label} is subscribed in products.yaml but no ApplicationSet deploys it",
                               repo=CONFIGS, path=f"customers/{unit.customer}/products.yaml",
                               customer=unit.customer, product=unit.product, environment=unit.environment,
                               key_path=("products", unit.product), discriminator=unit.label)


__all__ = ["Coverage", "DeployedValues", "KeyPath"]
