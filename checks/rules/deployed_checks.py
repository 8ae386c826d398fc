"""What ArgoCD deploys, checked as deployed (the deployed units of rules/deployed_units.py): each
generated Application's effective values from its own value files in its own order, at the
revision its `$values` ref names, against the product's schema (`appset/deployed-values`) and the
Rego policies (`appset/deployed-policy`); plaintext secrets in value files read at another revision
(`appset/deployed-secrets`); a ref revision git does not have (`appset/value-revision`); and where
the Applications and the four-layer model of products.yaml disagree (`appset/coverage`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from checks.core.findings import Finding, KeyPath, Severity, format_key_path
from checks.engines.appsets import GeneratedApp
from checks.engines.jsonschemas import explain
from checks.engines.rego import EngineError
from checks.model.platform import CONFIGS
from checks.model.unitgroups import locate
from checks.model.values import EffectiveValues
from checks.rules.appset_checks import _apps_text, _AppsetCheck, generations
from checks.rules.deployed_units import (
    deployed_applications,
    deployed_units,
    four_layer_files,
    revision_stores,
)
from checks.rules.policy_checks import evaluator, policy_input, policy_set
from checks.rules.schema_checks import distinct_schemas, product_schemas
from checks.rules.secret_checks import detectors, scan_parsed
from checks.runner.registry import Partial, register

if TYPE_CHECKING:
    from checks.runner.context import Context


@register
class DeployedValues(_AppsetCheck):
    """Each generated Application's own values -- its value files, in its order -- pass the product's schema.

    ArgoCD hands Helm the Application's `valueFiles`, not the four-layer convention: an
    ApplicationSet that uses two layers, or another order, deploys other values than the
    four-layer units that `schema/values` checks. Those Applications are validated here, with
    the file and line that set each offending value; an Application whose files are exactly a
    four-layer unit's, or whose values equal that unit's, is already covered by `schema/values`
    (reported once). Value files a `$values` ref reads at another revision are read there.
    Secrets (`secrets://`) never enter.

    Passes:   valueFiles: ['$values/products/billing/base-values.yaml', '$values/customers/acme/billing/values.yaml']
              -- products/billing/base-values.yaml --
              replicaCount: 0
    Fails:    valueFiles: ['$values/customers/acme/billing/values.yaml', '$values/products/billing/base-values.yaml']
              -- products/billing/base-values.yaml --     (the base's replicaCount: 0 now wins)
              replicaCount: 0
    """

    id = "appset/deployed-values"

    def run(self, ctx: Context) -> Iterator[Finding]:
        grouped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        unit_problems: dict = {}  # the four-layer units' own problems, once each
        for du in deployed_units(ctx):
            if du.as_unit or du.values is None:
                continue  # the four-layer unit's values: schema/values validates these
            problems = self._problems(ctx, du.values, du.unit.product)
            if not problems:
                continue
            for unit in du.comparable:
                if unit not in unit_problems:
                    unit_problems[unit] = self._problems(ctx, ctx.values(unit)[0], unit.product)
            known = {problem[4:] for unit in du.comparable for problem in unit_problems[unit]}
            for problem in problems:
                if problem[4:] in known:
                    continue  # the four-layer unit fails the same way: schema/values' finding
                for d in du.apps:
                    key = (d.gen.appset.path, d.gen.appset.index, d.gen.appset.name, du.note(), *problem)
                    grouped[key].append(d.app)
        for key, apps in grouped.items():
            appset_path, _, appset_name, note, repo, path, line, column, key_path, message, keyword = key
            yield self.finding(f"{message} (deployed by {_apps_text(apps)} of ApplicationSet {appset_name}, "
                               f"{note})", repo=repo, path=path, line=line, column=column,
                               key_path=key_path, discriminator=f"{appset_path}|{keyword}|{message}")

    @staticmethod
    def _problems(ctx: Context, ev: EffectiveValues | None, product: str) -> list[tuple]:
        out: list[tuple] = []
        if ev is None:
            return out
        for schema in distinct_schemas(ctx, product_schemas(ctx, product)):
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


def _deployed_text(du_apps: list, appset_name: str, note: str) -> str:
    return f"deployed by {_apps_text(du_apps)} of ApplicationSet {appset_name}, {note}"


@register
class DeployedPolicy(_AppsetCheck):
    """The Rego policies of `policy/rego` over what each generated Application deploys, where that
    differs from its four-layer unit's values.

    Input as for `policy/rego`: `{customer, product, environment, values}`, the values being the
    Application's chart defaults and own value files in its order (at the revision its `$values`
    ref names). Where they equal the four-layer unit's, `policy/rego` already reports on exactly
    these values; where they differ, only results the four-layer unit does not have (same rule,
    message and key) are reported: one finding per problem. An Application naming no environment
    is compared with each environment's unit of its customer's product. Findings point at the line that set
    the value and name the Applications.

    Passes:   valueFiles: ['$values/products/billing/base-values.yaml', '$values/customers/acme/billing/values.yaml']
    Fails:    valueFiles: ['$values/customers/acme/billing/values.yaml', '$values/products/billing/base-values.yaml']
    """

    id = "appset/deployed-policy"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Finding]:
        policies = policy_set(ctx)
        checked = [du for du in deployed_units(ctx) if not du.as_unit and du.values is not None]
        if not policies.packages or not checked:
            return
        shared = evaluator(ctx)
        try:
            results = shared.evaluate([policy_input(ctx, du.unit, du.values.values)
                                       for du in checked if du.values is not None])
            # the four-layer units compared with, only where a deployed unit has results at all (most
            # have none): policy/rego's own results when it evaluated them in this process, else
            # evaluated here once (and then not again by policy/rego)
            units = sorted({u for du, found in zip(checked, results, strict=True) if found for u in du.comparable})
            unit_results = shared.units(units)
        except (EngineError, FileNotFoundError) as exc:
            yield self.finding(f"policies were not evaluated over the deployed Applications: {exc}",
                               discriminator="engine")
            return
        grouped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        for du, found in zip(checked, results, strict=True):
            ev = du.values
            if ev is None or not found:
                continue
            reported = {(r.kind, r.rule, r.message, tuple(r.path or ()))
                        for unit in du.comparable for r in unit_results.get(unit, [])}
            for result in found:
                if (result.kind, result.rule, result.message, tuple(result.path or ())) in reported:
                    continue  # a four-layer unit of the same deployment has it too: policy/rego's finding
                where = locate(ev, result.path or ())
                for d in du.apps:
                    key = (d.gen.appset.path, d.gen.appset.name, du.note(), where.repo, where.path, where.line,
                           where.column, result.kind, result.rule, result.message, tuple(result.path or ()))
                    grouped[key].append(d.app)
        for key, apps in grouped.items():
            appset_path, appset_name, note, repo, path, line, column, kind, rule, message, key_path = key
            yield self.finding(f"{message} [{rule}] ({_deployed_text(apps, appset_name, note)})",
                               severity=Severity.WARNING if kind == "warn" else Severity.ERROR,
                               repo=repo, path=path, line=line, column=column, key_path=key_path,
                               discriminator=f"{appset_path}|{rule}|{message}")


@register
class ValueRevision(_AppsetCheck):
    """The revision a `$values` ref names exists in customer-configs' git, so what it deploys is checked.

    ArgoCD reads `$values/...` files at the ref source's `targetRevision`. The tree checked stands
    for `appsets.branch` (default `main`); a ref naming another branch or tag is read from git
    (the name, else `origin/NAME`). When git here does not have it, those Applications' values
    cannot be checked: an error, never a silent fallback to the tree checked.

    Passes:   targetRevision: main
    Fails:    targetRevision: release-2   (no such branch or tag here: fetch it)
    """

    id = "appset/value-revision"

    def run(self, ctx: Context) -> Iterator[Finding]:
        grouped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        gens = {}
        for d in deployed_applications(ctx):
            for revision, why in d.unread:
                grouped[(id(d.gen), d.app.template_path, revision, why)].append(d.app)
                gens[id(d.gen)] = d.gen
        for (gid, template_path, revision, why), apps in grouped.items():
            gen = gens[gid]
            yield self.at(gen, (*template_path, "spec"),
                          f"{_apps_text(apps)} read their value files at {revision!r}: {why}",
                          discriminator=revision)


@register
class DeployedSecrets(_AppsetCheck):
    """No plaintext secret in the value files an Application reads at another revision.

    `secrets/plaintext` scans every file of the tree checked. A `$values` ref naming another
    branch or tag (see `appset/value-revision`) deploys that revision's files, which nothing else
    scans: they are scanned here with the same detectors, and a finding names the revision and the
    Applications. A file identical to the tree checked's is left to `secrets/plaintext` (one
    finding per secret). Findings show detector, key path and a short hash -- never the value.

    Passes:   targetRevision: pull-request   (the tree checked, which secrets/plaintext scans)
              -- .gitops-checks.yaml --
              appsets: {branch: pull-request}
              -- customers/acme/billing/values.yaml --
              replicaCount: 2
              password: "Xk29fjQ0pLm3aQ"
              -- pull request --
              -- customers/acme/billing/values.yaml --
              replicaCount: 2
              existingSecret: billing-db
    Fails:    targetRevision: main   (main still holds the password the pull request removes)
              -- .gitops-checks.yaml --
              appsets: {branch: pull-request}
              -- customers/acme/billing/values.yaml --
              replicaCount: 2
              password: "Xk29fjQ0pLm3aQ"
              -- pull request --
              -- customers/acme/billing/values.yaml --
              replicaCount: 2
              existingSecret: billing-db
    """

    id = "appset/deployed-secrets"

    def run(self, ctx: Context) -> Iterator[Finding]:
        by_file: dict[tuple[str, str, str], list[GeneratedApp]] = defaultdict(list)
        for d in deployed_applications(ctx):
            for f in d.files:
                if f.revision is not None:
                    by_file[(f.revision, f.repo, f.path)].append(d.app)
        if not by_file:
            return
        det = detectors(ctx)
        for (revision, repo, path), apps in sorted(by_file.items(), key=lambda item: item[0]):
            store, _ = revision_stores(ctx).store(revision)
            if store is None:
                continue
            blob = store.blob(repo, path)
            if blob is not None and blob == ctx.store.blob(repo, path):
                continue  # the same file as the tree checked's: secrets/plaintext reports it
            parsed = store.get(repo, path)
            if parsed is None or not parsed.ok:
                continue
            for hit in scan_parsed(parsed.documents, det, path):
                where = format_key_path(hit.key_path)
                yield self.finding(f"plaintext secret: {hit.label}" + (f" at {where}" if where else "")
                                   + f" in {path} as at {revision} (deployed by {_apps_text(apps)})",
                                   repo=repo, path=path, line=hit.line, key_path=hit.key_path,
                                   discriminator=f"{revision}|{hit.digest}",
                                   extra={"detector": hit.detector, "revision": revision})


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

    def run(self, ctx: Context) -> Iterator[Finding | Partial]:
        complete = all(g.complete for g in generations(ctx))
        deployed = deployed_applications(ctx)
        model = ctx.model
        unsubscribed: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        skipped: dict[tuple, list[GeneratedApp]] = defaultdict(list)
        seen: set[tuple[str, str, str]] = set()
        full = ctx.scope.full
        subscriptions: dict[tuple[str, str], Any] = {}  # (customer, product) -> its subscription, or None
        for d in deployed:
            c, p, e = d.unit.customer, d.unit.product, d.unit.environment
            if not full and not ctx.scope.includes_file(CONFIGS, f"customers/{c}/products.yaml"):
                continue
            customer = model.customers.get(c)
            if customer is None or c in model.unreadable:
                continue
            seen.add((c, p, e))
            if (c, p) in subscriptions:
                sub = subscriptions[(c, p)]
            else:
                sub = subscriptions[(c, p)] = next((s for s in customer.subscriptions if s.product == p), None)
            if sub is None or not sub.enabled or (e and e not in sub.environments):
                why = ("not subscribed" if sub is None else "disabled" if not sub.enabled
                       else f"environment {e} not subscribed")
                unsubscribed[(id(d.gen), c, p, why)].append(d.app)
                continue
            if e:
                four = four_layer_files(ctx, d.unit)
                if d.files == four:  # the four layers themselves (most Applications naming an environment)
                    continue
                paths = d.paths
                missing = [f.path for f in four if (f.repo, f.path) not in paths]
                if missing:
                    skipped[(id(d.gen), d.app.template_path, tuple(missing))].append(d.app)
        gens = {id(g): g for g in generations(ctx)}
        for (gid, customer, product, why), apps in unsubscribed.items():
            gen = gens[gid]
            yield self.at(gen, ("spec", "generators"), f"{customer}/{product}: {why} in "
                          f"customers/{customer}/products.yaml, yet deployed by {_apps_text(apps)}",
                          customer=customer, product=product, discriminator=f"{customer}|{product}|{why}")
        for (gid, template_path, missing), apps in skipped.items():
            gen = gens[gid]
            yield self.at(gen, (*template_path, "spec"),
                          f"{_apps_text(apps)} leave out {', '.join(missing[:3])}"
                          f"{' and more' if len(missing) > 3 else ''}, which the four-layer model layers",
                          discriminator="|".join(missing[:3]))
        if ctx.scope.full:
            # what no Application deploys: over every worker's Applications (conclude)
            unseen = [u for u in ctx.units() if (u.customer, u.product, u.environment) not in seen
                      and (u.customer, u.product, "") not in seen]
            yield Partial(self.id, (bool(generations(ctx)), complete, seen, unseen))

    def conclude(self, ctx: Context, parts: list[Any]) -> Iterator[Finding]:
        if not any(p[0] for p in parts) or not all(p[1] for p in parts if p[0]):
            # an ApplicationSet not (fully) generated: "nothing deploys it" would be a guess (and a run
            # that generates only what a change can affect does not ask)
            return
        seen = set().union(*(p[2] for p in parts))
        for unit in sorted({u for p in parts for u in p[3]}):
            if unit in seen or (unit.customer, unit.product, "") in seen:  # (a Unit equals its fields' tuple)
                continue
            yield self.finding(f"{unit.label} is subscribed in products.yaml but no ApplicationSet deploys it",
                               repo=CONFIGS, path=f"customers/{unit.customer}/products.yaml",
                               customer=unit.customer, product=unit.product, environment=unit.environment,
                               key_path=("products", unit.product), discriminator=unit.label)


__all__ = ["Coverage", "DeployedPolicy", "DeployedSecrets", "DeployedValues", "KeyPath", "ValueRevision"]
