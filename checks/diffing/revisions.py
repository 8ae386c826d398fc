"""The effective-value diff between two revisions of either repository (or both), and the Applications
the change adds, removes or changes: the service behind `diff --base/--infra-base` and the main run's
diff reports."""

from __future__ import annotations

from checks.diffing.applications import application_changes
from checks.diffing.pull_request import PullRequest, base_sources, scope_of
from checks.diffing.sides import Side, side_at
from checks.diffing.units import DiffResult
from checks.model.platform import INFRA
from checks.repo.documents import DocumentStore
from checks.scope.selection import Scope


def revision_diff(pr: PullRequest, head: Side, identifiers: tuple[str, ...] = ("name", "key", "id"),
                  every_unit: bool = False, scope: Scope | None = None) -> DiffResult:
    """`head`: the head revision (a run's own, to share its documents, values and Applications);
    `scope`: the run's own, when it already worked it out (an ApplicationSet change generates every
    Application twice to find it)."""
    from checks.diffing.schema_changes import schema_changes
    from checks.diffing.units import diff_revisions

    settings = head.settings
    with base_sources(pr, head.sources) as sources:
        base = side_at(settings, sources, DocumentStore(sources, settings.limits, head.store.share()))
        scope = scope if scope is not None else scope_of(pr, head)
        if not every_unit:
            head = head.with_scope(scope)
        configs_changes = pr.configs.changes if pr.configs else []
        infra_changes = pr.infra.changes if pr.infra else []
        files = sorted({c.path for c in configs_changes} | {c.old_path for c in configs_changes if c.old_path})
        files += sorted({f"{INFRA}/{p}" for c in infra_changes for p in (c.path, c.old_path) if p})
        result = diff_revisions(base, head, pr.base_label(), pr.head_label(), files, identifiers)
        if INFRA in head.sources:
            if scope.applications is not None:
                result.applications = scope.applications  # an ApplicationSet changed: every customer compared
            else:
                # like with like: both sides generated over the same customers (the run's own
                # generation may have covered another scope, a shard's for one; each is kept apart
                # by the customers it was asked for)
                appsets_changed = any(p.startswith("applicationsets/") for c in infra_changes
                                      for p in (c.path, c.old_path) if p)
                result.applications = application_changes(base.with_scope(head.scope), head, configs_changes,
                                                          infra_changed=appsets_changed)
        result.schemas = schema_changes(base, head, [*configs_changes], infra_changes)
        return result
