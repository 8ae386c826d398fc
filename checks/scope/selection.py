"""Which units and files a run looks at: everything, or what base...head can affect."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

from checks.model.platform import CONFIGS, Unit
from checks.repo.source import Change


@dataclass
class Scope:
    full: bool = True
    customers: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    files: dict[str, set[str]] = field(default_factory=dict)  # repo -> changed paths present at head
    reasons: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)  # base..head, oldest first (PR mode)
    shard: tuple[int, int] | None = None  # (K, N): this run checks the K-th of N parts
    # (residues, M): a forked worker's part of the run (of its shard, if any)
    part: tuple[frozenset[int], int] | None = None

    def in_shard(self, name: str) -> bool:
        if self.shard is None and self.part is None:
            return True
        number = _shard_number(name)
        n = 1
        if self.shard is not None:
            k, n = self.shard
            if number % n != k - 1:
                return False
        if self.part is not None:
            residues, m = self.part
            return (number // n) % m in residues  # independent of the shard's residue
        return True

    def includes_unit(self, unit: Unit) -> bool:
        if not (self.full or unit.customer in self.customers or unit.product in self.products):
            return False
        # partitioned by customer: a customer's units and files are read by one shard only
        return self._unsplit or self.in_shard(f"customer:{unit.customer}")

    @property
    def _unsplit(self) -> bool:
        return self.shard is None and self.part is None

    def includes_file(self, repo: str, path: str) -> bool:
        if not self._unsplit and not self.in_shard(shard_key(repo, path)):
            return False
        if self.full:
            return True
        parts = path.split("/")
        if repo == CONFIGS and len(parts) >= 2:
            if parts[0] == "customers" and parts[1] in self.customers:
                return True
            if parts[0] == "products" and parts[1] in self.products:
                return True
        return path in self.files.get(repo, set())


@functools.lru_cache(maxsize=1 << 18)
def _shard_number(name: str) -> int:
    # every check asks about every file: hash each name once
    return int.from_bytes(hashlib.sha1(name.encode(), usedforsecurity=False).digest()[:4], "big")


def shard_key(repo: str, path: str) -> str:
    parts = path.split("/", 2)
    if repo == CONFIGS and len(parts) == 3 and parts[0] == "customers":
        return f"customer:{parts[1]}"
    return f"{repo}/{path}"


def partition(shares: list[float], slots: int = 64) -> list[tuple[frozenset[int], int]]:
    """Residue sets of `slots` classes, one per share (shares sum to 1; a share may be 0):
    together they cover every class exactly once."""
    bounds, total = [], 0.0
    for share in shares:
        total += share
        bounds.append(round(total * slots))
    bounds[-1] = slots
    out, start = [], 0
    for end in bounds:
        out.append((frozenset(range(start, end)), slots))
        start = end
    return out


def full_scope() -> Scope:
    return Scope(full=True, reasons=["full run: every unit and file"])


def scope_for_changes(changes: list[Change]) -> Scope:
    """A customer's file selects that customer; a product file selects every unit of the product;
    anything else (settings, .sops.yaml, shared modules, unknown places) selects everything."""
    scope = Scope(full=False, changes=changes)
    for change in changes:
        for path in filter(None, (change.path, change.old_path)):
            parts = path.split("/")
            if change.status != "D" and path == change.path:
                scope.files.setdefault(CONFIGS, set()).add(path)
            if len(parts) >= 3 and parts[0] == "customers":
                if parts[1] not in scope.customers:
                    scope.reasons.append(f"{path}: customer {parts[1]}")
                scope.customers.add(parts[1])
            elif len(parts) >= 3 and parts[0] == "products":
                if parts[1] not in scope.products:
                    scope.reasons.append(f"{path}: every unit of product {parts[1]}")
                scope.products.add(parts[1])
            elif path.endswith((".md", ".txt")) or path in ("LICENSE", ".gitignore"):
                scope.reasons.append(f"{path}: documentation, nothing to check")
            else:
                scope.full = True
                scope.reasons.append(f"{path}: may affect every unit, full run")
    if not changes:
        scope.reasons.append("no changes between base and head")
    return scope
