"""A worker's share generates from the paths of its own customers and of no customer: the listing
it filters is built from the paths grouped by customer (engines/appsets.Listings), and must be
exactly the whole listing through the share's path filter (the same paths, in the same order)."""

from __future__ import annotations

import random
from pathlib import Path

from helpers import write_tree

from checks.engines.appsets import Emulator, Listings, default_repo_for_url, tied_customer
from checks.model.platform import CONFIGS
from checks.repo.documents import DocumentStore, Limits
from checks.repo.source import WorkingTreeSource


def test_share_listing_equals_the_whole_listing_filtered(tmp_path: Path) -> None:
    rng = random.Random(20)  # noqa: S311 - a reproducible sample of customers, not a secret
    files = {"README.md": "x\n", "products/billing/base-values.yaml": "a: 1\n", "customers/README.md": "x\n",
             "customers/products.yaml": "x: 1\n", "zeta/x.yaml": "a: 1\n", "customersX/a/b.yaml": "a: 1\n"}
    customers = [f"c{n:03d}" for n in range(40)] + ["a-b", "z.z"]
    for customer in customers:
        for product in rng.sample(["billing", "search", "mail"], rng.randint(1, 3)):
            files[f"customers/{customer}/{product}/values.yaml"] = "a: 1\n"
        files[f"customers/{customer}/products.yaml"] = "products: []\n"
    write_tree(tmp_path / "repo", files)
    store = DocumentStore({CONFIGS: WorkingTreeSource(tmp_path / "repo", CONFIGS)}, Limits())
    shared = Listings(store)
    for trial in range(20):
        mine_set = set(rng.sample(customers, rng.randint(0, len(customers))))
        products = {"search"} if trial % 3 == 0 else set()

        def mine(customer: str, chosen: set[str] = mine_set) -> bool:
            return customer in chosen

        def own(path: str, chosen_products: set[str] = products) -> bool:
            tied = tied_customer(path)
            parts = path.split("/")
            selected = not chosen_products or len(parts) < 3 or parts[0] != "customers" or parts[2] in chosen_products
            return (tied is None or mine(tied)) and selected

        share = Emulator(store, default_repo_for_url({}), path_filter=own, listings=shared, customer_filter=mine)
        whole = Emulator(store, default_repo_for_url({}), path_filter=own)
        expected = [p for p in sorted(store.sources[CONFIGS].files()) if own(p)]
        assert share._filtered(CONFIGS) == whole._filtered(CONFIGS) == expected
        assert any(p.startswith("customers/c") for p in expected) == any(c.startswith("c") for c in mine_set)
