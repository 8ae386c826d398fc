"""`consistency/*`: products.yaml, the customer directories and both repositories agree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from checks.core.findings import Finding, Severity
from checks.model.platform import CHART_FILE, CONFIGS, CUSTOMER_VALUES, INFRA, PRODUCT_BASE, Customer
from checks.model.values import get_path
from checks.runner.context import Shared
from checks.runner.registry import Check, register

if TYPE_CHECKING:
    from checks.runner.context import Context


def _products_file(customer: str) -> str:
    return f"customers/{customer}/products.yaml"


def _in_scope_customers(ctx: Context) -> list[Customer]:
    return [c for cid, c in sorted(ctx.model.customers.items())
            if ctx.scope.includes_file(CONFIGS, _products_file(cid))]


@register
class UnknownProduct(Check):
    """Every product a customer lists exists in customer-configs/products/.

    Passes:   products: [billing]   with products/billing/ and a billing chart
    Fails:    products: [biling]    (no products/biling/: nothing would be deployed)
    """

    id = "consistency/unknown-product"
    subject = "customer"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for customer in _in_scope_customers(ctx):
            for sub in customer.subscriptions:
                # A missing chart is reported once per product by consistency/product-pairing.
                if sub.product not in ctx.model.products:
                    # the line only for a finding: asking parses the products.yaml again for its positions
                    line, col = sub.position or (None, None)
                    yield self.finding(f"product {sub.product!r} does not exist in customer-configs/products/",
                                       repo=CONFIGS, path=_products_file(customer.id), line=line, column=col,
                                       customer=customer.id, product=sub.product,
                                       key_path=("products", sub.product))


@register
class ProductPairing(Check):
    """With `--infra`: each product's base values have a chart, and each chart has base values.

    Passes:   -- products/billing/base-values.yaml --
              replicaCount: 1
              -- infra:products/billing/Chart.yaml --
              {apiVersion: v2, name: billing, version: 1.0.0}
    Fails:    -- infra:products/search/Chart.yaml (absent) --   (base values for search, no chart: error)
    Fails:    -- infra:products/audit/Chart.yaml --             (a chart nobody configures: warning)
              {apiVersion: v2, name: audit, version: 1.0.0}
    """

    id = "consistency/product-pairing"

    def run(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.has_infra:
            return
        charts = ctx.chart_products()
        for product in sorted(ctx.model.products):
            base = PRODUCT_BASE.format(p=product)
            if not ctx.store.exists(CONFIGS, base):
                yield self.finding(f"product {product!r} has no base values ({base})", repo=CONFIGS,
                                   path=f"products/{product}", product=product, discriminator="base")
            elif product not in charts:
                yield self.finding(f"product {product!r} has base values but no chart in platform-infrastructure",
                                   repo=CONFIGS, path=base, line=1, product=product)
        for product in sorted(charts - ctx.model.products):
            yield self.finding(f"chart {product!r} has no product in customer-configs/products/",
                               severity=Severity.WARNING, repo=INFRA, path=CHART_FILE.format(p=product), line=1,
                               product=product)


@register
class MissingValues(Check):
    """Every enabled product has `customers/{c}/{product}/values.yaml`.

    ApplicationSets discover deployments through that file; without it the product
    is subscribed but never deployed.

    Passes:   products: [billing]
              -- customers/acme/billing/values.yaml --
              replicaCount: 2
    Fails:    products: [billing]
              -- customers/acme/billing/values.yaml (absent) --
    """

    id = "consistency/missing-values"
    subject = "customer"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for customer in _in_scope_customers(ctx):
            for sub in customer.subscriptions:
                if not sub.enabled or sub.product not in ctx.model.products:
                    continue
                path = CUSTOMER_VALUES.format(c=customer.id, p=sub.product)
                if not ctx.store.exists(CONFIGS, path):
                    line, col = sub.position or (None, None)
                    yield self.finding(f"{sub.product} is enabled but {path} does not exist", repo=CONFIGS,
                                       path=_products_file(customer.id), line=line, column=col,
                                       customer=customer.id, product=sub.product, key_path=("products", sub.product))


@register
class OrphanConfig(Check):
    """Configuration nothing deploys: a product directory the customer does not subscribe to,
    or an environment file for an environment the subscription does not include.

    Passes:   products: [{name: billing, environments: [prod]}, search]
              -- customers/acme/billing/environments/prod.yaml --
              replicaCount: 3
    Fails:    products: [{name: billing, environments: [prod]}, search]
              -- customers/acme/billing/environments/dev.yaml --     (never used)
              replicaCount: 1
    Fails:    products: [billing]     (customers/acme/search/ is configured, not subscribed)
    """

    id = "consistency/orphan-config"
    subject = "customer"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Finding]:
        by_customer = _files_by_customer(ctx)
        for customer in _in_scope_customers(ctx):
            subs = {s.product: s for s in customer.subscriptions}
            prefix = f"customers/{customer.id}/"
            reported: set[str] = set()
            for path in by_customer.get(customer.id, []):
                parts = path[len(prefix):].split("/")
                if len(parts) < 2 or parts[0] in ("terraform", "configs"):
                    continue
                product = parts[0]
                if product not in subs:
                    if product not in reported:
                        reported.add(product)
                        yield self.finding(f"directory {product}/ is not in products.yaml: nothing deploys it",
                                           repo=CONFIGS, path=f"{prefix}{product}", customer=customer.id,
                                           product=product)
                    continue
                if len(parts) == 3 and parts[1] == "environments" and parts[2].endswith((".yaml", ".yml")):
                    env = parts[2].rsplit(".", 1)[0]
                    if env not in subs[product].environments:
                        yield self.finding(f"environment {env!r} is not subscribed for {product}: this file is "
                                           "never used", repo=CONFIGS, path=path, customer=customer.id,
                                           product=product, environment=env)


@register
class Environments(Check):
    """Environments named in products.yaml exist (the configured list, or the product's
    `environments/` folder), and product environment files belong to a known environment.

    Passes:   environments: [staging, prod]
    Fails:    environments: [prd]
    """

    id = "consistency/environments"
    subject = "customer"

    def run(self, ctx: Context) -> Iterator[Finding]:
        configured = set(ctx.settings.environments)
        product_envs = _product_envs(ctx.sources[CONFIGS].files())
        for customer in _in_scope_customers(ctx):
            parsed = ctx.store.get(CONFIGS, _products_file(customer.id))
            doc = parsed.first if parsed else None
            for sub in customer.subscriptions:
                if not sub.explicit_environments:
                    continue
                known = configured | product_envs.get(sub.product, set())
                for env in sub.environments:
                    if env not in known:
                        line, col = sub.position or (None, None)
                        if doc is not None:
                            item = _item_path(doc.value, sub.product)
                            if item is not None and isinstance(doc.value, (dict, list)):
                                envs = get_path(doc.value, (*item, "environments"))
                                if isinstance(envs, list) and env in envs:
                                    pos = doc.locate((*item, "environments", envs.index(env)))
                                    line, col = pos or (line, col)
                        yield self.finding(f"environment {env!r} of {sub.product} is not one of "
                                           f"{', '.join(sorted(known))}", repo=CONFIGS,
                                           path=_products_file(customer.id), line=line, column=col,
                                           customer=customer.id, product=sub.product, environment=env)
        for product in sorted(ctx.model.products):
            for env in sorted(product_envs.get(product, set()) - configured):
                path = f"products/{product}/environments/{env}.yaml"
                if ctx.scope.includes_file(CONFIGS, path):
                    yield self.finding(f"environment {env!r} is not configured (environments: "
                                       f"{', '.join(ctx.settings.environments)}); this file is never used",
                                       severity=Severity.WARNING, repo=CONFIGS, path=path, product=product,
                                       environment=env)


def _product_envs(files: dict) -> dict[str, set[str]]:
    """product -> environments it has a file for, from one pass over the listing."""
    out: dict[str, set[str]] = {}
    for p in files:
        parts = p.split("/")
        if len(parts) == 4 and parts[0] == "products" and parts[2] == "environments" \
                and parts[3].endswith((".yaml", ".yml")):
            out.setdefault(parts[1], set()).add(parts[3].rsplit(".", 1)[0])
    return out


FILES_BY_CUSTOMER: Shared[dict[str, list[str]]] = Shared("files-by-customer")


def _files_by_customer(ctx: Context) -> dict[str, list[str]]:
    """customer -> its files, sorted, from one pass over the listing (not one pass per customer)."""
    def build() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in sorted(ctx.sources[CONFIGS].files()):
            parts = p.split("/", 2)
            if len(parts) == 3 and parts[0] == "customers":
                out.setdefault(parts[1], []).append(p)
        return out
    return ctx.shared(FILES_BY_CUSTOMER, build)


def _item_path(value, product: str):
    base = ("products",) if isinstance(value, dict) else ()
    items = get_path(value, base)
    if not isinstance(items, list):
        return None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == product:
            return (*base, i)
    return None


@register
class CustomerMetadata(Check):
    """Each customer has `metadata.yaml`, and its `id` is the directory name.

    Passes:   {id: acme, name: Acme Corp}
    Fails:    {id: acme-corp, name: Acme Corp}      (in customers/acme/)
    Fails:    -- customers/acme/metadata.yaml (absent) --
    """

    id = "consistency/metadata"
    subject = "customer"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for cid in sorted(ctx.model.customers):
            path = f"customers/{cid}/metadata.yaml"
            if not ctx.scope.includes_file(CONFIGS, path):
                continue
            parsed = ctx.store.get(CONFIGS, path)
            if parsed is None:
                yield self.finding(f"customer {cid} has no metadata.yaml", repo=CONFIGS, path=f"customers/{cid}",
                                   customer=cid)
                continue
            if not parsed.ok or parsed.first is None or not isinstance(parsed.first.value, dict):
                continue
            value = parsed.first.value.get("id")
            if value is not None and value != cid:
                pos = parsed.first.locate(("id",))
                yield self.finding(f"id {str(value)[:64]!r} differs from the directory name {cid!r}", repo=CONFIGS,
                                   path=path, line=pos[0] if pos else 1, column=pos[1] if pos else None,
                                   customer=cid, key_path=("id",))
