"""The Applications every ApplicationSet generates at one revision, computed once per set of
customers asked for and shared by the checks, `apps` and the diffs between revisions.

A forked worker of a large run generates only its part (`Part`): the Applications made from its
own customers' files (`customers/<c>/...`), and those no customer's file makes (a list generator's,
a generator over `products/`), which every worker generates alike. Each Application gets an
`order` that is the same whichever worker generates it, so that the runner can merge what the
workers say about them into what one process would say (runner/app_merge.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.core.settings import Settings
from checks.engines.appsets import (
    Emulator,
    Generation,
    Listings,
    default_repo_for_url,
    load_appsets,
    tied_customer,
)
from checks.model.platform import APPSET_DIR, INFRA
from checks.repo.documents import DocumentStore
from checks.scope.selection import Scope

Selected = tuple[frozenset[str], frozenset[str]]
UNTIED = ""  # the order's customer of an Application no customer's file makes: every worker has it
WHOLE = "\x01"  # the order's customer in an ApplicationSet generated whole, by the first worker only


@dataclass(frozen=True)
class Part:
    """A worker's part of the Applications: `key` names it (equal keys, equal parts), `mine` says
    whether a customer is its own; the `first` worker also generates the ApplicationSets that
    cannot be split by customer (see `partitionable`)."""

    key: Any
    first: bool
    mine: Callable[[str], bool] = field(compare=False, hash=False)


def scope_customers(scope: Scope) -> Selected | None:
    """The customers and products whose Applications a scope needs (None: every customer). A PR
    touching only some customers or products generates the Applications of those customers, and of
    every customer's files of those products; matching still sees every file."""
    if not scope.full and scope.shard is None:
        return frozenset(scope.customers), frozenset(scope.products)
    return None


def partitionable(appset_value: Any) -> bool:
    """Whether generating an ApplicationSet from each part of the customers' files gives, together,
    exactly its Applications: at most one git generator (two could pair customers of different
    parts in a matrix), and no merge generator (it joins parameter sets across files)."""
    counts = {"git": 0, "merge": 0}

    def walk(node: Any, depth: int) -> None:
        if depth > 8:
            counts["merge"] += 1  # deeper than ArgoCD goes: not worth splitting
            return
        if isinstance(node, dict):
            for key, value in node.items():
                if key in counts and value is not None:
                    counts[key] += 1
                walk(value, depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
    spec = appset_value.get("spec") if isinstance(appset_value, dict) else None
    walk(spec.get("generators") if isinstance(spec, dict) else None, 0)
    return counts["git"] <= 1 and counts["merge"] == 0


class ApplicationGenerator:
    def __init__(self, store: DocumentStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._generations: dict[tuple[Selected | None, Part | None], list[Generation]] = {}
        self._listings: Listings | None = None  # the repositories' listings, for every part and share

    def appset_files(self) -> list[str]:
        if INFRA not in self.store.sources:
            return []
        return sorted(p for p in self.store.sources[INFRA].files()
                      if p.startswith(APPSET_DIR) and p.endswith((".yaml", ".yml")))

    def generations(self, customers: Selected | None = None, part: Part | None = None) -> list[Generation]:
        found = self._generations.get((customers, part))
        if found is None:
            found = self._generate(customers, part) if INFRA in self.store.sources else []
            self._generations[(customers, part)] = found
        return found

    def forget(self, part: Part) -> None:
        """Let go of a worker's part of the Applications (its checks of them are done)."""
        for key in [k for k in self._generations if k[1] == part]:
            del self._generations[key]

    def _emulator(self, path_filter: Callable[[str], bool] | None,
                  customer_filter: Callable[[str], bool] | None = None) -> Emulator:
        if self._listings is None:
            self._listings = Listings(self.store)
        return Emulator(self.store, default_repo_for_url(self.settings.appset_repos),
                        self.settings.appset_new_globbing, path_filter, self._listings, customer_filter)

    def _generate(self, customers: Selected | None, part: Part | None) -> list[Generation]:
        selected = None if customers is None else _customer_filter(customers)
        if part is None:
            split = whole = self._emulator(selected)
        else:
            mine = part.mine

            def own(path: str) -> bool:
                tied = tied_customer(path)
                return (tied is None or mine(tied)) and (selected is None or selected(path))
            split, whole = self._emulator(own, mine), self._emulator(selected)
        out = []
        for index, appset in enumerate(load_appsets(self.store, self.appset_files())):
            if partitionable(appset.value):
                gen = split.generate(appset)
                _order_split(gen, index)
            elif part is None or part.first:
                gen = whole.generate(appset)
                for i, app in enumerate(gen.apps):
                    app.order = (index, WHOLE, i)
            else:
                continue  # the first worker's
            out.append(gen)
        return out


def _order_split(gen: Generation, index: int) -> None:
    """Applications made from a customer's files after one another in the generator's order, by
    customer (as `customers/*/...` paths sort); before them those of no customer, in their order."""
    counts: dict[str, int] = {}
    for app in gen.apps:
        customer = params_customer(app.params)
        key = UNTIED if customer is None else customer + "/"
        n = counts.get(key, 0)
        counts[key] = n + 1
        app.order = (index, key, n)


def params_customer(params: dict) -> str | None:
    """The customer whose file or folder a git generator made these parameters from (its path
    parameters, `path` or `<prefix>.path`, name `customers/<c>/...`); None for any other."""
    for key, value in params.items():
        if isinstance(value, dict):
            inner = value.get("path") if key != "path" else value
            if isinstance(inner, dict) and isinstance(inner.get("path"), str) and "segments" in inner:
                found = tied_customer(inner["path"] + "/")
                if found:
                    return found
        elif isinstance(value, str) and (key == "path" or key.endswith(".path")):
            found = tied_customer(value + "/")
            if found:
                return found
    return None


def _customer_filter(selected: Selected) -> Callable[[str], bool]:
    customers, products = selected

    def path_filter(path: str) -> bool:
        parts = path.split("/")
        if parts[0] != "customers" or (len(parts) > 1 and parts[1] in customers):
            return True
        # the customer-level files (products.yaml lists them) and every customer's folder of those products
        return bool(products) and (len(parts) == 3 or (len(parts) > 3 and parts[2] in products))
    return path_filter


_CUSTOMER_PATH = re.compile(r"(?:^|/)customers/([^/]+)/")


def referenced_customers(gens: list[Generation]) -> set[str]:
    """The customers whose files the Applications name (value files, source paths), generously:
    a worker reads their model to check the Applications of its part."""
    found: set[str] = set()
    for gen in gens:
        for app in gen.apps:
            for source in app.sources:
                for text in (source.path, *source.value_files):
                    if isinstance(text, str) and "customers/" in text:
                        found.update(_CUSTOMER_PATH.findall(text))
    return found
