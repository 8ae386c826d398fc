"""The Applications every ApplicationSet generates at one revision, computed once per set of
customers asked for and shared by the checks, `apps` and the diffs between revisions."""

from __future__ import annotations

from collections.abc import Callable

from checks.core.settings import Settings
from checks.engines.appsets import Emulator, Generation, default_repo_for_url, load_appsets
from checks.model.platform import APPSET_DIR, INFRA
from checks.repo.documents import DocumentStore
from checks.scope.selection import Scope


def scope_customers(scope: Scope) -> tuple[frozenset[str], frozenset[str]] | None:
    """The customers and products whose Applications a scope needs (None: every customer). A PR
    touching only some customers or products generates the Applications of those customers, and of
    every customer's files of those products; matching still sees every file."""
    if not scope.full and scope.shard is None:
        return frozenset(scope.customers), frozenset(scope.products)
    return None


class ApplicationGenerator:
    def __init__(self, store: DocumentStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._generations: dict[tuple[frozenset[str], frozenset[str]] | None, list[Generation]] = {}

    def appset_files(self) -> list[str]:
        if INFRA not in self.store.sources:
            return []
        return sorted(p for p in self.store.sources[INFRA].files()
                      if p.startswith(APPSET_DIR) and p.endswith((".yaml", ".yml")))

    def generations(self, customers: tuple[frozenset[str], frozenset[str]] | None = None) -> list[Generation]:
        found = self._generations.get(customers)
        if found is None:
            found = []
            if INFRA in self.store.sources:
                path_filter = None if customers is None else _customer_filter(customers)
                emulator = Emulator(self.store, default_repo_for_url(self.settings.appset_repos),
                                    self.settings.appset_new_globbing, path_filter)
                found = [emulator.generate(a) for a in load_appsets(self.store, self.appset_files())]
            self._generations[customers] = found
        return found


def _customer_filter(selected: tuple[frozenset[str], frozenset[str]]) -> Callable[[str], bool]:
    customers, products = selected

    def path_filter(path: str) -> bool:
        parts = path.split("/")
        if parts[0] != "customers" or (len(parts) > 1 and parts[1] in customers):
            return True
        # the customer-level files (products.yaml lists them) and every customer's folder of those products
        return bool(products) and (len(parts) == 3 or (len(parts) > 3 and parts[2] in products))
    return path_filter
