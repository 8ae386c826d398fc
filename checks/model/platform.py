"""Customers, products, subscriptions and deployment units of customer-configs.

Names found in the tree become Kubernetes namespaces and file paths. Anything that
is not a DNS-1123 label is reported and left out of the model -- never used to
build a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from checks.core.findings import KeyPath
from checks.repo.documents import DocumentStore, Position, YamlDocument

CONFIGS = "customer-configs"
INFRA = "platform-infrastructure"
APPSET_DIR = "applicationsets/"  # where platform-infrastructure keeps its ApplicationSets

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def is_dns_label(name: str) -> bool:
    return bool(_DNS1123_LABEL.match(name))


def is_chart_template(repo: str, path: str) -> bool:
    """A file under a Helm chart's `templates/` in platform-infrastructure: Go template text, not YAML."""
    return repo == INFRA and "templates" in path.split("/")[:-1]


class Unit(NamedTuple):
    """One deployment: a customer's product in one environment. A named tuple: sorted, hashed and
    compared in C (a run sorts and hashes tens of thousands; a dataclass's `__lt__` and `__hash__`
    are Python code), in field order, as `order=True` did."""

    customer: str
    product: str
    environment: str

    @property
    def label(self) -> str:
        return f"{self.customer}/{self.product}/{self.environment}"


@dataclass(frozen=True)
class Subscription:
    product: str
    enabled: bool
    environments: tuple[str, ...]
    document: YamlDocument | None = field(default=None, compare=False, repr=False)  # products.yaml's
    key_path: KeyPath = ()  # of its entry in `document`
    explicit_environments: bool = False

    @property
    def position(self) -> Position | None:
        """The line of its entry, looked up when a finding asks: positions are recorded from the
        file's text on demand, and asking for every customer's would parse every products.yaml twice."""
        return self.document.locate(self.key_path) if self.document is not None else None


@dataclass
class Customer:
    id: str
    metadata: dict[str, Any] | None = None
    subscriptions: list[Subscription] = field(default_factory=list)


@dataclass(frozen=True)
class ModelProblem:
    check: str
    message: str
    path: str
    position: Position | None = None
    customer: str | None = None
    product: str | None = None
    key_path: KeyPath = ()
    severity: str = "error"


# Layer files, in Helm's order (later wins). {p}, {c}, {e} are validated labels.
PRODUCT_BASE = "products/{p}/base-values.yaml"
PRODUCT_ENV = "products/{p}/environments/{e}.yaml"
CUSTOMER_VALUES = "customers/{c}/{p}/values.yaml"
CUSTOMER_ENV = "customers/{c}/{p}/environments/{e}.yaml"
CHART_VALUES = "products/{p}/values.yaml"  # in platform-infrastructure
CHART_FILE = "products/{p}/Chart.yaml"


def layer_paths(unit: Unit) -> list[tuple[str, str]]:
    """(label, path) of the four customer-configs layers, product base first."""
    c, p, e = unit.customer, unit.product, unit.environment
    return [
        ("product base", PRODUCT_BASE.format(p=p)),
        ("product environment", PRODUCT_ENV.format(p=p, e=e)),
        ("customer product", CUSTOMER_VALUES.format(c=c, p=p)),
        ("customer environment", CUSTOMER_ENV.format(c=c, p=p, e=e)),
    ]


class Model:
    """What customer-configs declares, built from metadata.yaml and products.yaml only."""

    def __init__(self, store: DocumentStore, environments: tuple[str, ...],
                 only_customers: set[str] | None = None) -> None:
        self.store = store
        self.environments = environments
        self.only_customers = only_customers  # load just these (the `values` command needs one)
        self.customers: dict[str, Customer] = {}
        self.products: set[str] = set()
        self.problems: list[ModelProblem] = []
        self._units: list[Unit] | None = None
        # Customers whose products.yaml could not be read: their units are unknown, not absent.
        self.unreadable: set[str] = set()
        self._build()

    # -- building ---------------------------------------------------------
    def _build(self) -> None:
        source = self.store.sources[CONFIGS]
        product_dirs = source.subdirs("products")
        if self.only_customers is not None:
            # just the ones asked for that exist (a folder holding anything, as in the full listing)
            customer_dirs = self.only_customers & source.subdirs("customers")
        else:
            customer_dirs = source.subdirs("customers")
        for name in sorted(product_dirs):
            if self._valid_name(name, "product", f"products/{name}"):
                self.products.add(name)
        for name in sorted(customer_dirs):
            if self._valid_name(name, "customer", f"customers/{name}"):
                self.customers[name] = self._customer(name)

    def _valid_name(self, name: str, what: str, where: str, pos: Position | None = None,
                    customer: str | None = None, doc: YamlDocument | None = None, key_path: KeyPath = ()) -> bool:
        """Whether `name` is a DNS label; a problem when not, at `pos` (or at `key_path` of `doc`)."""
        if is_dns_label(name):
            return True
        if pos is None and doc is not None:
            pos = doc.locate(key_path)
        shown = name.encode("unicode_escape").decode("ascii")[:80]
        self.problems.append(ModelProblem(
            "consistency/names",
            f"{what} name {shown!r} is not a DNS-1123 label (lowercase letters, digits, '-', at most 63); "
            "left out of every check",
            where, pos, customer=customer))
        return False

    def _customer(self, cid: str) -> Customer:
        customer = Customer(cid)
        meta = self.store.get(CONFIGS, f"customers/{cid}/metadata.yaml")
        if meta is not None and meta.ok and meta.first is not None and isinstance(meta.first.value, dict):
            customer.metadata = meta.first.value
        customer.subscriptions = self._subscriptions(cid)
        return customer

    def _subscriptions(self, cid: str) -> list[Subscription]:
        """Entries the model can use; `schema/products` reports the shape of the rest."""
        path = f"customers/{cid}/products.yaml"
        parsed = self.store.get(CONFIGS, path)
        if parsed is None:
            return []
        if not parsed.ok or parsed.first is None:
            self.unreadable.add(cid)
            return []
        doc = parsed.first
        value = doc.value
        base: KeyPath = ()
        if isinstance(value, dict):
            value, base = value.get("products"), ("products",)
        if not isinstance(value, list):
            if value is not None:
                self.unreadable.add(cid)
            return []
        subs: list[Subscription] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            ipath = (*base, i)
            if isinstance(item, str):
                name, enabled, envs = item, True, None
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                name, enabled, envs = item["name"], item.get("enabled", True), item.get("environments")
                if not isinstance(enabled, bool) or (
                        envs is not None and not (isinstance(envs, list) and all(isinstance(e, str) for e in envs))):
                    continue
            else:
                continue
            # a line is looked up only for a problem (positions are recorded on demand)
            if not self._valid_name(name, "product", path, None, cid, doc, ipath):
                continue
            if name in seen:
                self.problems.append(ModelProblem("consistency/subscriptions",
                                                  f"product {name!r} is listed twice", path, doc.locate(ipath), cid,
                                                  name, ipath))
                continue
            seen.add(name)
            env_names: list[str] = []
            for j, env in enumerate(envs if envs is not None else self.environments):
                if self._valid_name(env, "environment", path, None, cid, doc, (*ipath, "environments", j)):
                    env_names.append(env)
            subs.append(Subscription(name, enabled, tuple(env_names), doc, ipath,
                                     explicit_environments=envs is not None))
        return subs

    # -- queries ----------------------------------------------------------
    def units(self) -> list[Unit]:
        if self._units is None:
            self._units = self._all_units()
        return list(self._units)

    def _all_units(self) -> list[Unit]:
        units = [
            Unit(c.id, s.product, env)
            for c in self.customers.values()
            for s in c.subscriptions
            if s.enabled and s.product in self.products
            for env in s.environments
        ]
        return sorted(units)
