"""The Applications the ApplicationSets generate, listed; and which a change adds or removes."""

from __future__ import annotations

from typing import Any

from checks.engines.app_generation import ApplicationGenerator
from checks.engines.appsets import Generation, can_change_applications, load_appsets, resolve_value_file
from checks.model.platform import APPSET_DIR, INFRA
from checks.repo.source import Change


def application_changes(base: list[Generation], head: list[Generation], head_apps: ApplicationGenerator,
                        changes: list[Change]) -> dict[str, list[dict[str, Any]]]:
    """Applications the ApplicationSets generate at head but not at base, and the other way round:
    a removed one is deleted by ArgoCD when this merges."""
    store = head_apps.store
    appsets = load_appsets(store, sorted(p for p in store.sources[INFRA].files() if p.startswith(APPSET_DIR)))
    if not can_change_applications(appsets, [(c.status, c.path) for c in changes]):
        return {"added": [], "removed": []}  # only contents no generator reads: the same Applications
    before = {a["name"]: a for a in generated_apps(base)}
    after = {a["name"]: a for a in generated_apps(head)}
    pick = ("name", "applicationset", "namespace")
    return {"added": [{k: after[n][k] for k in pick} for n in sorted(set(after) - set(before))],
            "removed": [{k: before[n][k] for k in pick} for n in sorted(set(before) - set(after))]}


def generated_apps(generations: list[Generation]) -> list[dict[str, Any]]:
    out = []
    for gen in generations:
        for app in gen.apps:
            chart = next((s.path for s in app.sources if s.repo == INFRA and s.path), None)
            files = [f"{r or '?'}:{p}" for r, p in (resolve_value_file(app, s, e) for s, _, e in app.value_files)]
            out.append({"applicationset": gen.appset.name, "file": gen.appset.path, "name": app.name,
                        "namespace": app.namespace, "chart": chart, "valueFiles": files})
    return out
