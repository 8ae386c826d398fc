"""A pull request to either repository, or a pair of them: the revisions of both, what each changes
from its merge base, and the scope that follows (including the Applications an ApplicationSet change
adds, removes or changes, generated at base and at head over the same customers)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checks.diffing.sides import Side, side_at
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore
from checks.repo.source import (
    Change,
    Source,
    SourceError,
    diff_paths,
    git_toplevel,
    merge_base,
    open_source,
    resolve_revision,
)
from checks.scope.selection import Scope, infra_referrers, referrer_files, scope_for_changes


@dataclass
class RepoRevisions:
    """One repository's side of a pull request: base (as given), head (None: the working tree),
    the revision compared against (merge base, or base itself with `direct`) and the changes."""

    repo: str
    root: Path
    base: str
    head: str | None
    compared: str = ""
    changes: list[Change] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.base}@{self.compared[:12]}"


@dataclass
class PullRequest:
    configs: RepoRevisions | None = None
    infra: RepoRevisions | None = None

    @property
    def active(self) -> bool:
        return self.configs is not None or self.infra is not None

    def base_label(self) -> str:
        parts = []
        if self.configs is not None:
            parts.append(self.configs.label)
        if self.infra is not None:
            parts.append(f"{INFRA} {self.infra.label}")
        return ", ".join(parts)

    def head_label(self) -> str:
        configs = (self.configs.head if self.configs else None) or "working tree"
        if self.infra is None:
            return configs
        return f"{configs}, {INFRA} {self.infra.head or 'working tree'}"


def _side(repo: str, root: Path, base: str, head: str | None, direct: bool) -> RepoRevisions:
    top = git_toplevel(root)
    if top is None:
        option = "--base" if repo == CONFIGS else "--infra-base"
        raise SourceError(f"{root} is not a git repository (needed for {option})")
    top = top.resolve()
    compared = resolve_revision(top, base) if direct else merge_base(top, base, head)
    return RepoRevisions(repo, root, base, head, compared, diff_paths(root, compared, head))


def pull_request(configs: Path, infra: Path | None, base: str | None, head: str | None,
                 infra_base: str | None, infra_head: str | None, direct: bool = False) -> PullRequest:
    """Revisions and changes of both repositories; unknown revisions and non-repositories raise
    SourceError (exit 2)."""
    pr = PullRequest()
    if base:
        pr.configs = _side(CONFIGS, configs, base, head, direct)
    if infra_base:
        if infra is None:
            raise SourceError("--infra-base needs --infra DIR")
        pr.infra = _side(INFRA, infra, infra_base, infra_head, direct)
    return pr


@contextlib.contextmanager
def base_sources(pr: PullRequest, head_sources: Mapping[str, Source]) -> Iterator[dict[str, Source]]:
    """Both repositories at base: each at its compared revision when it is under review, else the
    head's own source (the same object, so unchanged charts are known to be unchanged)."""
    sources = dict(head_sources)
    opened = []
    try:
        for side in (pr.configs, pr.infra):
            if side is not None:
                sources[side.repo] = open_source(side.root, side.repo, side.compared)
                opened.append(sources[side.repo])
        yield sources
    finally:
        for s in opened:
            s.close()


def scope_of(pr: PullRequest, head: Side) -> Scope:
    """What the pull request can affect, in either repository (`head`: the head revision, read whole)."""
    referrers = None
    if pr.infra is not None and INFRA in head.sources:
        infra = head.sources[INFRA]
        referrers = infra_referrers(infra.read_many(referrer_files(list(infra.files()))))
    scope = scope_for_changes(pr.configs.changes if pr.configs else [], pr.infra.changes if pr.infra else [],
                              referrers)
    if scope.appsets and not scope.full:
        _add_application_customers(pr, head, scope)
    return scope


def application_diff(pr: PullRequest, head: Side, scope: Scope | None = None) -> dict[str, list]:
    """Applications added, removed and changed between base and head, both sides generated over
    `scope` (every customer when None)."""
    from checks.diffing.applications import compare_applications, generated_apps
    from checks.scope.selection import full_scope

    settings = head.settings
    with base_sources(pr, head.sources) as sources:
        scope = scope if scope is not None else full_scope()
        base = side_at(settings, sources, DocumentStore(sources, settings.limits, head.store.share()), scope)
        head = head.with_scope(scope)
        return compare_applications(generated_apps(base), generated_apps(head), (base, head))


def _add_application_customers(pr: PullRequest, head: Side, scope: Scope) -> None:
    diff = application_diff(pr, head)
    scope.applications = diff
    for kind in ("added", "removed", "changed"):
        for app in diff[kind]:
            customer = app.get("customer")
            if customer is None:
                continue
            if customer not in scope.customers:
                scope.reasons.append(f"Application {app['name']} {kind}: customer {customer}")
            scope.customers.add(customer)
