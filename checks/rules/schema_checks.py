"""`schema/*`: JSON Schema validation of effective values, of the schemas themselves,
and of metadata.yaml and products.yaml."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from checks.core.findings import Finding, Severity
from checks.engines.jsonschemas import CompiledSchema, explain
from checks.model.platform import CONFIGS, INFRA, Unit
from checks.model.unitgroups import UNITS, grouped_finding, locate
from checks.runner.registry import Check, register

if TYPE_CHECKING:
    from checks.runner.context import Context

SCHEMA_FILE = "products/{p}/values.schema.json"


def product_schemas(ctx: Context, product: str) -> list[CompiledSchema]:
    """The product's schema in customer-configs and the chart's own, each compiled once per run."""
    out = []
    for repo in (CONFIGS, INFRA):
        if repo not in ctx.sources:
            continue
        compiled = ctx.product_schema(repo, product)
        if compiled is not None:
            out.append(compiled)
    return out


def distinct_schemas(ctx: Context, schemas: list[CompiledSchema]) -> list[CompiledSchema]:
    """The chart's schema is left out when it is the product's schema again (the same content, as
    when a team copies the chart's schema into customer-configs): one violation, one finding."""
    out: list[CompiledSchema] = []
    seen: list[Any] = []
    for schema in schemas:
        parsed = ctx.store.get(schema.repo, schema.path)
        value = parsed.first.value if parsed is not None and parsed.ok and parsed.first is not None else None
        if value is not None and any(value == other for other in seen):
            continue
        seen.append(value)
        out.append(schema)
    return out


@register
class Values(Check):
    """Effective values of every unit validate against the product's `values.schema.json`.

    The schema describes what Helm renders with, so the merged values of (customer,
    product, environment) are validated -- not each file alone. Each error points at the
    file and line that set the offending value; a missing required property points at
    the most specific layer that defines its parent. The same error from one line in
    several environments is one finding. The chart's own schema in
    platform-infrastructure (which Helm enforces too) is used as well when present, unless
    it is the same schema as the product's (then a violation is reported once).

    Passes:   base: {replicaCount: 1}   customer prod: {replicaCount: 3}
    Fails:    customer prod: {replicaCount: 0}   (minimum 1: at customers/acme/billing/environments/prod.yaml:1)
    """

    id = "schema/values"
    subject = "unit"

    def run(self, ctx: Context) -> Iterator[Finding]:
        by_product: dict[str, list[Unit]] = defaultdict(list)
        for unit in ctx.units():
            by_product[unit.product].append(unit)
        grouped: dict[tuple, list[Unit]] = defaultdict(list)
        for product, units in sorted(by_product.items()):
            schemas = distinct_schemas(ctx, product_schemas(ctx, product))
            if not schemas:
                yield grouped_finding(self, f"product {product} has no values.schema.json: {UNITS} units not "
                                      "validated", units, "count", severity=Severity.NOTICE, repo=CONFIGS,
                                      path=SCHEMA_FILE.format(p=product), product=product)
                continue
            for schema in schemas:
                validator = schema.validator
                if validator is None:  # not usable
                    yield grouped_finding(self, f"{UNITS} units of {product} not validated: the schema cannot be "
                                          "used (see schema/schema)", units, "count", severity=Severity.WARNING,
                                          repo=schema.repo, path=schema.path, product=product,
                                          discriminator="unusable")
                    continue
                broken: list[Unit] = []
                for unit in units:
                    ev, _ = ctx.values(unit)
                    if ev is None:
                        continue  # its layer files are reported by yaml/*
                    try:
                        errors = list(validator.iter_errors(ev.values))
                    except Exception:
                        broken.append(unit)
                        continue
                    for error in errors:
                        path, message, keyword = explain(error)
                        where = locate(ev, path, keyword)
                        grouped[(where, path, message, keyword, schema.repo, schema.path)].append(unit)
                if broken:
                    yield grouped_finding(self, f"{UNITS} units of {product} not validated: the schema failed "
                                          "while validating", broken, "count", repo=schema.repo, path=schema.path,
                                          product=product, discriminator="failed")
        for (where, path, message, keyword, srepo, spath), units in grouped.items():
            schema_note = "" if srepo == CONFIGS else f" [chart schema {srepo}/{spath}]"
            yield grouped_finding(self, f"{message}{schema_note} ({UNITS}{where.note})", units,
                                  repo=where.repo, path=where.path, line=where.line, column=where.column,
                                  key_path=path, discriminator=f"{keyword}|{srepo}|{spath}")


@register
class SchemaFile(Check):
    """Each `values.schema.json` is valid JSON and a valid JSON Schema, with resolvable `$ref`s.

    Checked against the metaschema of its `$schema` draft (4, 6, 7, 2019-09, 2020-12;
    default 2020-12). A `$ref` that resolves nowhere is reported once, at its line, and
    the units of that product are reported as not validated rather than passing.
    Remote `$ref`s are never fetched.

    Passes:   {"type": "object", "properties": {"replicaCount": {"type": "integer"}}}
    Fails:    {"type": "object", "properties": {"port": {"$ref": "#/$defs/missing"}}}
    """

    id = "schema/schema"

    def run(self, ctx: Context) -> Iterator[Finding]:
        products = sorted(ctx.model.products | ctx.chart_products())
        for product in products:
            if not ctx.scope.includes_file(CONFIGS, SCHEMA_FILE.format(p=product)):
                continue
            for schema in product_schemas(ctx, product):
                for p in schema.problems:
                    yield self.finding(p.message, severity=Severity.parse(p.severity), repo=schema.repo,
                                       path=schema.path, line=p.line, column=p.column,
                                       key_path=p.key_path, product=product,
                                       discriminator=p.message if not p.key_path else "")


class _BuiltinSchemaCheck(Check):
    schema_name: str = ""
    file_name: str = ""

    def validator(self, ctx: Context) -> Any:
        return ctx.builtin_validator(self.schema_name)

    def run(self, ctx: Context) -> Iterator[Finding]:
        validator = self.validator(ctx)
        for customer in sorted(ctx.model.customers):
            path = f"customers/{customer}/{self.file_name}"
            if not ctx.scope.includes_file(CONFIGS, path):
                continue
            parsed = ctx.store.get(CONFIGS, path)
            if parsed is None or not parsed.ok or parsed.first is None:
                continue  # missing: consistency/*; unparseable: yaml/*
            doc = parsed.first
            value = doc.value if doc.value is not None else {}
            for error in validator.iter_errors(value):
                key_path, message, keyword = explain(error)
                pos = doc.locate(key_path)
                yield self.finding(message, repo=CONFIGS, path=path, line=pos[0] if pos else 1,
                                   column=pos[1] if pos else None, customer=customer, key_path=key_path,
                                   discriminator=keyword)

    @classmethod
    def doc(cls) -> str:
        import json

        from checks.engines.jsonschemas import builtin_schema

        schema = json.dumps(builtin_schema(cls.schema_name), indent=2)
        extend = f"extend it with `schemas.{cls.schema_name}` in the settings"
        return f"{super().doc()}\n\nBuilt-in schema ({extend}):\n{schema}"


@register
class Metadata(_BuiltinSchemaCheck):
    """`customers/{c}/metadata.yaml` matches the built-in metadata schema (plus the team's additions).

    Required: `id` (a DNS-1123 label) and `name`; optional tier, region, contacts
    (with a valid email), domains (valid host names), labels. A team adds its own
    required fields with `schemas: {metadata: {required: [cost_center]}}` in the settings.

    Passes:   {id: acme, name: Acme Corp, domains: [acme.example.com]}
    Fails:    {id: acme, domains: ["not a host"]}
    """

    id = "schema/metadata"
    schema_name = "metadata"
    file_name = "metadata.yaml"


@register
class Products(_BuiltinSchemaCheck):
    """`customers/{c}/products.yaml` matches the built-in products schema.

    A `products` list of names, or of `{name, enabled, environments}`; `enabled`
    defaults to true and `environments` to the configured list. Entries of another
    shape are left out of every check, so they are errors here.

    Passes:   products: [{name: billing, environments: [staging, prod]}]
    Fails:    products: billing
    """

    id = "schema/products"
    schema_name = "products"
    file_name = "products.yaml"
