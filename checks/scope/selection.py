"""Which units and files a run looks at: everything, or what base...head can affect."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from checks.core.findings import Finding
from checks.model.platform import CONFIGS, INFRA, Unit
from checks.repo.source import Change

NO_CHANGES = "no changes in either repository"
DOCS_ONLY = "documentation only: nothing to check"
_DOC_NAMES = {"LICENSE", "LICENCE", "NOTICE", "OWNERS", "CODEOWNERS", ".gitignore", ".gitattributes"}
# appset checks about generated Applications: in PR mode they see only the Applications of the
# affected customers (generation is scoped), so their findings belong to the change
_APPLICATION_CHECKS = ("appset/template", "appset/generators", "appset/unique-names", "appset/value-files",
                       "appset/chart-path", "appset/namespace", "appset/value-order")


@dataclass
class Scope:
    full: bool = True
    customers: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    files: dict[str, set[str]] = field(default_factory=dict)  # repo -> changed paths present at head
    reasons: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # customer-configs, base...head
    infra_changes: list[Change] = field(default_factory=list)  # platform-infrastructure, infra-base...infra-head
    appsets: bool = False  # an ApplicationSet changed: its files and the Applications it generates are checked
    pull_request: bool = False  # PR mode (either repository): findings outside the change do not fail
    note: str = ""  # said in the summary: NO_CHANGES or DOCS_ONLY
    applications: dict | None = None  # an ApplicationSet change: Applications added/removed/changed
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
        return self.part is None or in_part(number // n, self.part)  # independent of the shard's residue

    def includes_unit(self, unit: Unit) -> bool:
        if not (self.full or unit.customer in self.customers or unit.product in self.products):
            return False
        # partitioned by customer: a customer's units and files are read by one shard only
        return self._unsplit or self.in_shard(f"customer:{unit.customer}")

    @property
    def _unsplit(self) -> bool:
        return self.shard is None and self.part is None

    def includes_file(self, repo: str, path: str) -> bool:
        # asked for every file of the tree (22,000 at 1,000 customers): no split of the whole path
        if (self.shard is not None or self.part is not None) and not self.in_shard(shard_key(repo, path)):
            return False
        if self.full:
            return True
        if repo == CONFIGS:
            top, _, rest = path.partition("/")
            if top == "customers":
                if rest.partition("/")[0] in self.customers:
                    return True
            elif top == "products" and rest.partition("/")[0] in self.products:
                return True
        return path in self.files.get(repo, ())

    def includes_infra_file(self, path: str) -> bool:
        """platform-infrastructure is small and every part reads its charts: it is not split by shard or
        worker, and a PR examines it whole, so that its old findings are counted (outside the change)
        rather than unseen; a PR with nothing to check (documentation, no changes) examines nothing."""
        return not self.note or path in self.files.get(INFRA, set())

    def changed(self, repo: str, path: str) -> bool:
        changes = self.changes if repo == CONFIGS else self.infra_changes
        return any(path in (c.path, c.old_path) for c in changes)

    def owns(self, finding: Finding) -> bool:
        """Whether a PR's change can have caused this finding: in a changed file, about a unit or
        customer or product the change affects, or about the Applications it affects. A full run
        owns everything; so does a finding about the run itself."""
        if self.full or not self.pull_request or finding.repo is None or finding.path is None:
            return True
        if "commit" in finding.extra:  # a secret in the PR's history
            return True
        if finding.customer in self.customers or finding.product in self.products:
            return True
        parts = finding.path.split("/")
        if len(parts) > 1 and parts[0] == "products" and parts[1] in self.products:
            return True
        if finding.repo == CONFIGS and len(parts) > 1 and parts[0] == "customers" and parts[1] in self.customers:
            return True
        if finding.check in _APPLICATION_CHECKS and (self.customers or self.appsets or self.products):
            return True
        return self.changed(finding.repo, finding.path)


@functools.lru_cache(maxsize=1 << 18)
def _shard_number(name: str) -> int:
    # every check asks about every file: hash each name once
    return int.from_bytes(hashlib.sha1(name.encode(), usedforsecurity=False).digest()[:4], "big")


def in_part(number: int, part: tuple[frozenset[int], int]) -> bool:
    residues, m = part
    return number % m in residues


def customer_in_part(customer: str, part: tuple[frozenset[int], int], shard: tuple[int, int] | None,
                     share: tuple[int, int] = (0, 1)) -> bool:
    """Whether a customer is in a worker's part, whichever shard it is in (the Applications of
    every shard's customers are split between the workers as their units are); with `share`
    (j, k), in the j-th of k shares of that part."""
    number = _shard_number(f"customer:{customer}") // (shard[1] if shard else 1)
    return in_part(number, part) and (number // part[1]) % share[1] == share[0]


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


SLOTS = 256  # the classes a run's names fall into, dealt to its workers


def slot(name: str, shard: tuple[int, int] | None, slots: int = SLOTS) -> int:
    """The class of a name (`shard_key`) among `slots`, within its shard (as `Scope.in_shard` reads it)."""
    return (_shard_number(name) // (shard[1] if shard else 1)) % slots


def balanced_partition(weights: dict[int, float], workers: int, slots: int = SLOTS) -> list[tuple[frozenset[int], int]]:
    """Residue sets of `slots` classes, one per worker, with about equal total weight (the heaviest
    class first, to the lightest worker so far): together they cover every class exactly once."""
    loads = [0.0] * workers
    members: list[list[int]] = [[] for _ in range(workers)]
    for index in sorted(range(slots), key=lambda s: (-weights.get(s, 0.0), s)):
        lightest = min(range(workers), key=lambda w: (loads[w], len(members[w]), w))
        members[lightest].append(index)
        loads[lightest] += weights.get(index, 0.0)
    return [(frozenset(m), slots) for m in members]


def full_scope() -> Scope:
    return Scope(full=True, reasons=["full run: every unit and file"])


def is_documentation(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path.endswith((".md", ".txt", ".rst", ".adoc")) or name in _DOC_NAMES


def scope_for_changes(changes: list[Change], infra_changes: list[Change] | None = None,
                      infra_referrers: Callable[[str], tuple[set[str], list[str]]] | None = None) -> Scope:
    """customer-configs: a customer's file selects that customer; a product file selects every unit of
    the product; anything else (settings, .sops.yaml, shared modules, unknown places) selects everything.
    platform-infrastructure: `products/{p}/**` selects every unit of p; an ApplicationSet selects the
    Applications it generates (the caller adds their customers); anything else is decided from what
    references it (`infra_referrers(path)` -> products and ApplicationSet files), everything when unsure.
    Documentation selects nothing, in either repository."""
    scope = Scope(full=False, changes=changes, infra_changes=list(infra_changes or []), pull_request=True)
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
            elif is_documentation(path):
                scope.reasons.append(f"{path}: documentation, nothing to check")
            else:
                scope.full = True
                scope.reasons.append(f"{path}: may affect every unit, full run")
    for change in scope.infra_changes:
        for path in filter(None, (change.path, change.old_path)):
            _infra_path(scope, change, path, infra_referrers)
    everything = [*changes, *scope.infra_changes]
    if not everything:
        scope.note = NO_CHANGES
        scope.reasons.append(f"{NO_CHANGES} between base and head")
    elif all(is_documentation(p) for c in everything for p in filter(None, (c.path, c.old_path))):
        scope.note = DOCS_ONLY
    return scope


def _infra_path(scope: Scope, change: Change, path: str,
                referrers: Callable[[str], tuple[set[str], list[str]]] | None) -> None:
    where = f"{INFRA}/{path}"
    parts = path.split("/")
    if change.status != "D" and path == change.path:
        scope.files.setdefault(INFRA, set()).add(path)
    if is_documentation(path):
        scope.reasons.append(f"{where}: documentation, nothing to check")
    elif len(parts) >= 3 and parts[0] == "products":
        if not any(r.startswith(f"{INFRA}/products/{parts[1]}/") for r in scope.reasons):
            scope.reasons.append(f"{where}: chart of product {parts[1]}, every unit of it")
        scope.products.add(parts[1])
    elif parts[0] == "applicationsets" and len(parts) >= 2:
        scope.appsets = True
        scope.reasons.append(f"{where}: ApplicationSet, every Application it generates before and after "
                             "(and the units they deploy)")
    else:
        products, appsets = referrers(path) if referrers is not None else (set(), [])
        if appsets:
            scope.full = True
            scope.reasons.append(f"{where}: referenced by {', '.join(appsets[:3])}, which may deploy it to "
                                 "every customer: full run")
        elif products:
            new = sorted(products - scope.products)
            scope.products |= products
            scope.reasons.append(f"{where}: referenced by the chart of {', '.join(sorted(products))}"
                                 + (f", every unit of {', '.join(new)}" if new else ""))
        else:
            scope.full = True
            scope.reasons.append(f"{where}: referenced by no chart or ApplicationSet this suite reads; "
                                 "unsure what it affects: full run")


def _needles(path: str) -> list[re.Pattern[str]]:
    """The path and each of its folders, as whole path words (not `charts` inside `charts.jetstack.io`)."""
    parts = path.split("/")
    words = ["/".join(parts[:k]) for k in range(len(parts), 0, -1)]
    return [re.compile(r"(?<![\w.-])" + re.escape(w) + r"(?![\w.-])") for w in words]


def infra_referrers(files: dict[str, bytes]) -> Callable[[str], tuple[set[str], list[str]]]:
    """From the text of the charts' files and the ApplicationSets (path -> bytes): which products
    and which ApplicationSet files mention a path or one of its folders."""
    texts = {p: b.decode("utf-8", "replace") for p, b in files.items()}

    def find(path: str) -> tuple[set[str], list[str]]:
        needles = _needles(path)
        products: set[str] = set()
        appsets: list[str] = []
        for where, text in sorted(texts.items()):
            if where == path or not any(n.search(text) for n in needles):
                continue
            parts = where.split("/")
            if parts[0] == "applicationsets":
                appsets.append(where)
            elif parts[0] == "products" and len(parts) > 2:
                products.add(parts[1])
        return products, appsets
    return find


def referrer_files(paths: list[str]) -> list[str]:
    """The files whose text says what uses base-manifests/, charts/ and the rest: ApplicationSets and
    chart metadata (Chart.yaml dependencies, requirements, kustomizations)."""
    names = {"Chart.yaml", "requirements.yaml", "kustomization.yaml", "kustomization.yml"}
    return sorted(p for p in paths if (p.startswith("applicationsets/") and p.endswith((".yaml", ".yml")))
                  or (p.startswith("products/") and p.rsplit("/", 1)[-1] in names))
