"""The effective-value diff between two revisions of either repository (or both), and the Applications
the change adds, removes or changes: the service behind `diff --base/--infra-base` and the main run's
diff reports."""

from __future__ import annotations

from checks.core.settings import Settings
from checks.diffing.applications import application_changes
from checks.diffing.pull_request import PullRequest, base_sources, scope_of
from checks.model.platform import INFRA
from checks.repo.documents import DocumentStore
from checks.repo.source import Source
from checks.runner.context import Context
from checks.scope.selection import Scope


def revision_diff(pr: PullRequest, head_sources: dict[str, Source], settings: Settings, head_ctx: Context,
                  identifiers: tuple[str, ...] = ("name", "key", "id"), every_unit: bool = False,
                  scope: Scope | None = None):
    """`scope`: the run's own, when it already worked it out (an ApplicationSet change generates every
    Application twice to find it)."""
    from checks.diffing.schema_changes import schema_changes
    from checks.diffing.units import diff_revisions

    with base_sources(pr, head_sources) as sources:
        base_ctx = Context(settings, sources, DocumentStore(sources, settings.limits, head_ctx.store.share()))
        scope = scope if scope is not None else scope_of(pr, head_ctx)
        if not every_unit:
            head_ctx = head_ctx.with_scope(scope)
        configs_changes = pr.configs.changes if pr.configs else []
        infra_changes = pr.infra.changes if pr.infra else []
        files = sorted({c.path for c in configs_changes} | {c.old_path for c in configs_changes if c.old_path})
        files += sorted({f"{INFRA}/{p}" for c in infra_changes for p in (c.path, c.old_path) if p})
        result = diff_revisions(base_ctx, head_ctx, pr.base_label(), pr.head_label(), files, identifiers)
        if INFRA in head_sources:
            if scope.applications is not None:
                result.applications = scope.applications  # an ApplicationSet changed: every customer compared
            else:
                # like with like: both sides generated afresh over the same customers (the run's own
                # generation may have covered another scope, a shard's for one)
                base_apps = Context(settings, sources, base_ctx.store, scope=head_ctx.scope)
                head_apps = Context(settings, head_ctx.sources, head_ctx.store, scope=head_ctx.scope)
                appsets_changed = any(p.startswith("applicationsets/") for c in infra_changes
                                      for p in (c.path, c.old_path) if p)
                result.applications = application_changes(base_apps, head_apps, configs_changes,
                                                          infra_changed=appsets_changed)
        result.schemas = schema_changes(base_ctx, head_ctx, [*configs_changes], infra_changes)
        return result
