"""The Applications the ApplicationSets generate, listed; and which a change adds or removes."""

from __future__ import annotations

from checks.model.platform import INFRA
from checks.runner.run import Context


def application_changes(base_ctx: Context, head_ctx: Context, changes) -> dict[str, list]:
    """Applications the ApplicationSets generate at head but not at base, and the other way round:
    a removed one is deleted by ArgoCD when this merges."""
    from checks.engines.appsets import can_change_applications, load_appsets
    from checks.rules.appset_checks import APPSET_DIR

    files = sorted(p for p in head_ctx.sources[INFRA].files() if p.startswith(APPSET_DIR))
    appsets = load_appsets(head_ctx.store, files)
    if not can_change_applications(appsets, [(c.status, c.path) for c in changes]):
        return {"added": [], "removed": []}  # only contents no generator reads: the same Applications
    before = {a["name"]: a for a in generated_apps(base_ctx)}
    after = {a["name"]: a for a in generated_apps(head_ctx)}
    pick = ("name", "applicationset", "namespace")
    return {"added": [{k: after[n][k] for k in pick} for n in sorted(set(after) - set(before))],
            "removed": [{k: before[n][k] for k in pick} for n in sorted(set(before) - set(after))]}


def generated_apps(ctx: Context) -> list[dict]:
    from checks.engines.appsets import resolve_value_file
    from checks.rules.appset_checks import generations

    out = []
    for gen in generations(ctx):
        for app in gen.apps:
            chart = next((s.path for s in app.sources if s.repo == INFRA and s.path), None)
            files = [f"{r or '?'}:{p}" for r, p in (resolve_value_file(app, s, e) for s, _, e in app.value_files)]
            out.append({"applicationset": gen.appset.name, "file": gen.appset.path, "name": app.name,
                        "namespace": app.namespace, "chart": chart, "valueFiles": files})
    return out

