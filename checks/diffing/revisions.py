"""The effective-value diff of customer-configs between two revisions, and the Applications it adds
or removes: the service behind `diff --base` and the main run's diff reports."""

from __future__ import annotations

from pathlib import Path

from checks.core.settings import Settings
from checks.diffing.applications import application_changes
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore
from checks.repo.source import Source, SourceError, changed_paths, diff_paths, git_toplevel, open_source
from checks.runner.run import Context
from checks.scope.selection import scope_for_changes


def revision_diff(configs: Path, head_sources: dict[str, Source], settings: Settings, head_ctx: Context,
                   base: str, head: str | None, direct: bool, identifiers: tuple[str, ...] = ("name", "key", "id"),
                   every_unit: bool = False):
    from checks.diffing.units import diff_revisions
    from checks.repo.source import merge_base as find_merge_base
    from checks.repo.source import resolve_revision

    top = git_toplevel(configs)
    if top is None:
        raise SourceError(f"{configs} is not a git repository (needed for --base)")
    base_rev = resolve_revision(top, base) if direct else find_merge_base(top, base, head)
    base_sources: dict[str, Source] = dict(head_sources)
    base_sources[CONFIGS] = open_source(configs, CONFIGS, base_rev)
    try:
        base_ctx = Context(settings, base_sources, DocumentStore(base_sources, settings.limits,
                                                                 head_ctx.store.share()))
        changes = changed_paths(configs, base, head) if not direct else diff_paths(configs, base_rev, head)
        if not every_unit:
            head_ctx.scope = scope_for_changes(changes)
        files = sorted({c.path for c in changes} | {c.old_path for c in changes if c.old_path})
        result = diff_revisions(base_ctx, head_ctx, f"{base}@{base_rev[:12]}", head or "working tree", files,
                                identifiers)
        if INFRA in head_sources:
            result.applications = application_changes(base_ctx, head_ctx, changes)
        return result
    finally:
        base_sources[CONFIGS].close()
