"""Checks on what the repository model found: names, products.yaml shape, value type conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from checks.core.findings import Finding, Severity
from checks.model.platform import CONFIGS
from checks.model.unitgroups import UNITS, grouped_finding
from checks.runner.registry import Check, register

if TYPE_CHECKING:
    from checks.runner.context import Context


class _ModelProblemCheck(Check):
    def run(self, ctx: Context) -> Iterator[Finding]:
        for p in ctx.model.problems:
            if p.check != self.id or not ctx.scope.includes_file(CONFIGS, p.path):
                continue
            yield self.finding(p.message, repo=CONFIGS, path=p.path,
                               line=p.position[0] if p.position else None,
                               column=p.position[1] if p.position else None,
                               customer=p.customer, product=p.product, key_path=p.key_path,
                               discriminator=p.message if not p.key_path else "")


@register
class Names(_ModelProblemCheck):
    """Customer, product and environment names must be DNS-1123 labels.

    They become Kubernetes namespaces and file paths; a name with `..`, a slash,
    spaces, capitals or unicode is refused and never used to build a path.

    Passes:   -- customers/acme-corp/products.yaml --
              products: [billing]
    Fails:    -- customers/Acme_Corp/products.yaml --
              products: [billing]
    Fails:    products: [{name: "../billing"}]
    """

    id = "consistency/names"
    subject = "customer"


@register
class Subscriptions(_ModelProblemCheck):
    """A product listed twice in one products.yaml: only the first entry is used.

    Passes:   products: [billing, search]
    Fails:    products: [billing, search, billing]
    """

    id = "consistency/subscriptions"
    subject = "customer"


@register
class ValueTypeConflict(Check):
    """A map meets a non-map while layering values (Helm keeps one and warns).

    Reported once per file and key, listing the environments it affects, at the
    line of the value Helm keeps.

    Passes:   base: {resources: {cpu: 100m}}    customer: {resources: {cpu: 200m}}
    Fails:    base: {resources: {cpu: 100m}}    customer: {resources: "200m"}
    """

    id = "consistency/value-type-conflict"
    subject = "unit"
    severity = Severity.NOTICE

    def run(self, ctx: Context) -> Iterator[Finding]:
        grouped: dict[tuple, list] = {}
        for unit in ctx.units():
            ev, _ = ctx.values(unit)
            if ev is None:
                continue
            for conflict in ev.conflicts:
                origin = ev.layers[conflict.kept_layer]
                pos = origin.document.locate(conflict.key_path)
                key = (origin.repo, origin.path, pos, conflict.key_path, conflict.message)
                grouped.setdefault(key, []).append(unit)
        for (repo, path, pos, key_path, message), units in grouped.items():
            yield grouped_finding(self, f"{message} ({UNITS})", units, repo=repo, path=path,
                                  line=pos[0] if pos else None, column=pos[1] if pos else None, key_path=key_path)
