"""The effective-value diff of customer-configs between two revisions, and the Applications it adds
or removes: the service behind `diff --base` and the main run's diff reports."""

from __future__ import annotations

from pathlib import Path

from checks.diffing.applications import application_changes
from checks.diffing.units import DiffResult, diff_revisions
from checks.engines.app_generation import ApplicationGenerator, scope_customers
from checks.model.platform import CONFIGS, INFRA
from checks.model.revision import Revision
from checks.repo.documents import DocumentStore
from checks.repo.source import (
    Source,
    SourceError,
    changed_paths,
    diff_paths,
    git_toplevel,
    open_source,
    resolve_revision,
)
from checks.repo.source import merge_base as find_merge_base
from checks.scope.selection import Scope, full_scope, scope_for_changes


def revision_diff(configs: Path, head: Revision, head_apps: ApplicationGenerator, base: str, head_rev: str | None,
                  direct: bool, identifiers: tuple[str, ...] = ("name", "key", "id"), every_unit: bool = False,
                  scope: Scope | None = None) -> DiffResult:
    """`head` is the platform at head (its values shared with the run that checked it); the base
    revision is read here. Units: those the change selects, or with `every_unit` those of `scope`."""
    settings = head.settings
    top = git_toplevel(configs)
    if top is None:
        raise SourceError(f"{configs} is not a git repository (needed for --base)")
    base_commit = resolve_revision(top, base) if direct else find_merge_base(top, base, head_rev)
    base_sources: dict[str, Source] = dict(head.sources)
    base_sources[CONFIGS] = open_source(configs, CONFIGS, base_commit)
    try:
        base_store = DocumentStore(base_sources, settings.limits, head.store.share())
        base_side = Revision(settings, base_sources, base_store)
        changes = changed_paths(configs, base, head_rev) if not direct else diff_paths(configs, base_commit, head_rev)
        diff_scope = (scope or full_scope()) if every_unit else scope_for_changes(changes)
        files = sorted({c.path for c in changes} | {c.old_path for c in changes if c.old_path})
        result = diff_revisions(base_side, head, diff_scope, f"{base}@{base_commit[:12]}", head_rev or "working tree",
                                files, identifiers)
        if INFRA in head.sources:
            base_apps = ApplicationGenerator(base_store, settings)
            result.applications = application_changes(base_apps.generations(scope_customers(full_scope())),
                                                      head_apps.generations(scope_customers(diff_scope)),
                                                      head_apps, changes)
        return result
    finally:
        base_sources[CONFIGS].close()
