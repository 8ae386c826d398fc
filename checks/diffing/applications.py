"""The Applications the ApplicationSets generate, listed; and which a change adds, removes or changes
(field by field: what a reviewer of an ApplicationSet change needs to see before ArgoCD acts on it),
with the change to each Application's deployed values (`values.<key>`) where they are not exactly
its four-layer unit's -- those show in the unit diff already."""

from __future__ import annotations

from typing import Any

from checks.diffing.sides import Side
from checks.model.platform import INFRA

# the fields compared between base and head, in the order they are shown
FIELDS = ("project", "destination.server", "destination.namespace", "chart", "targetRevision", "valueFiles",
          "syncPolicy.automated", "syncPolicy.automated.prune", "syncPolicy.automated.selfHeal", "syncPolicy")


def application_changes(base: Side, head: Side, changes, infra_changed: bool = False,
                        ) -> dict[str, list]:
    """Applications generated at head but not at base (added), the other way round (removed: ArgoCD
    deletes them on merge) and those whose fields differ (changed). Both sides must be generated over
    the same scope, so that like is compared with like."""
    from checks.engines.appsets import can_change_applications, load_appsets
    from checks.model.platform import APPSET_DIR

    if not infra_changed:
        files = sorted(p for p in head.sources[INFRA].files() if p.startswith(APPSET_DIR))
        appsets = load_appsets(head.store, files)
        if not can_change_applications(appsets, [(c.status, c.path) for c in changes]):
            # only contents no generator reads: the Applications are the same, their values may not be
            unchanged: dict[str, list] = {"added": [], "removed": [], "changed": []}
            return same_applications_value_changes(unchanged, base, head, changes) if changes else unchanged
    return compare_applications(generated_apps(base), generated_apps(head), (base, head))


def compare_applications(before_list: list[dict], after_list: list[dict],
                         sides: tuple[Side, Side] | None = None) -> dict[str, list]:
    """`sides` (base, head): also the changes to each Application's deployed values."""
    result = _compare(before_list, after_list)
    return add_value_changes(result, *sides) if sides is not None else result


def _compare(before_list: list[dict], after_list: list[dict]) -> dict[str, list]:
    before = {a["name"]: a for a in before_list}
    after = {a["name"]: a for a in after_list}
    pick = ("name", "applicationset", "namespace", "customer")
    removed = []
    for n in sorted(set(before) - set(after)):
        removed.append({**{k: before[n][k] for k in pick}, "highlight": "removed: ArgoCD deletes it on merge"})
    added = [{k: after[n][k] for k in pick} for n in sorted(set(after) - set(before))]
    changed = []
    for n in sorted(set(before) & set(after)):
        fields = field_changes(before[n], after[n])
        if not fields:
            continue
        entry: dict[str, Any] = {"name": n, "applicationset": after[n]["applicationset"],
                                 "namespace": after[n]["namespace"], "customer": after[n]["customer"],
                                 "changes": fields}
        if is_prod(after[n]) and not before[n]["fields"]["syncPolicy.automated"] \
                and after[n]["fields"]["syncPolicy.automated"]:
            entry["highlight"] = "automated sync turned on for a production Application"
        changed.append(entry)
    return {"added": added, "removed": removed, "changed": changed}


def _deployed_by_name(side: Side) -> dict[str, Any]:
    from checks.rules.deployed_units import deployed_units

    return {d.app.name: du for du in deployed_units(side.checks_view()) for d in du.apps}


def add_value_changes(result: dict[str, list], base: Side, head: Side) -> dict[str, list]:
    """Each Application deployed on both sides whose deployed values change in a way the unit diff
    does not show: one `values.<key>` change per value, masked like the unit diff's, with the file and
    line that set it. A change its four-layer unit (or, for an Application naming no environment, a
    unit of its customer's product) has too is the unit diff's: shown once, there."""
    before, after = _deployed_by_name(base), _deployed_by_name(head)
    pairs = []
    for name in sorted(set(before) & set(after)):
        b, a = before[name], after[name]
        if b.as_unit and a.as_unit:
            continue
        bev = b.values if b.values is not None else base.values(b.unit)[0]
        hev = a.values if a.values is not None else head.values(a.unit)[0]
        pairs.append((name, a, bev, hev))
    return _append_value_changes(result, pairs, base, head)


def same_applications_value_changes(result: dict[str, list], base: Side, head: Side, changes) -> dict[str, list]:
    """add_value_changes for a change no generator reads: the Applications and their value files are
    the same on both sides, so they are generated once (at head), and only those reading a changed
    file have their values computed at base."""
    from checks.model.platform import CONFIGS
    from checks.rules.deployed_units import deployed_units, deployed_values

    changed = {c.path for c in changes} | {c.old_path for c in changes if c.old_path}
    base_view = base.checks_view()
    pairs = []
    for a in deployed_units(head.checks_view()):
        if a.as_unit or a.values is None:
            continue
        if not any(f.revision is None and f.repo == CONFIGS and f.path in changed for f in a.files):
            continue
        bev = deployed_values(base_view, a.files, a.unit)
        for d in a.apps:
            pairs.append((d.app.name, a, bev, a.values))
    return _append_value_changes(result, sorted(pairs, key=lambda p: p[0]), base, head)


def _append_value_changes(result: dict[str, list], pairs: list, base: Side, head: Side) -> dict[str, list]:
    from checks.diffing.units import Masker, value_changes

    entries = {entry["name"]: entry for entry in result["changed"]}
    masker = Masker()
    unit_changes: dict[Any, set] = {}  # each four-layer unit's own changes, once

    def of_unit(unit: Any) -> set:
        if unit not in unit_changes:
            bev, hev = base.values(unit)[0], head.values(unit)[0]
            unit_changes[unit] = set() if bev is None or hev is None else {
                _change_key(c) for c in value_changes(bev, hev, masker)}
        return unit_changes[unit]

    for name, a, bev, hev in pairs:
        if bev is None or hev is None or bev.values == hev.values:
            continue
        shown = {key for unit in a.comparable for key in of_unit(unit)}
        found = [c for c in value_changes(bev, hev, masker) if _change_key(c) not in shown]
        if not found:
            continue
        entry = entries.get(name)
        if entry is None:
            app = next((d for d in a.apps if d.app.name == name), a.apps[0])
            entry = {"name": name, "applicationset": app.gen.appset.name, "namespace": app.app.namespace,
                     "customer": a.unit.customer, "changes": []}
            entries[name] = entry
            result["changed"].append(entry)
        for c in found:
            entry["changes"].append({"field": "values." + ".".join(str(p) for p in c.path), "before": c.before,
                                     "after": c.after, "source": c.source, **({"masked": True} if c.masked else {})})
        if a.revisions:
            entry["values_read_at"] = a.revisions
    result["changed"].sort(key=lambda e: e["name"])
    return result


def _change_key(change: Any) -> tuple:
    return (tuple(change.path), change.kind, repr(change.before), repr(change.after))


def field_changes(before: dict, after: dict) -> list[dict]:
    out = []
    for name in FIELDS:
        b, a = before["fields"].get(name), after["fields"].get(name)
        if b != a:
            out.append({"field": name, "before": b, "after": a})
    return out


def is_prod(app: dict) -> bool:
    """A production Application: named, placed or valued for prod."""
    name, ns = app.get("name") or "", app.get("namespace") or ""
    return (name.endswith("-prod") or ns.endswith("-prod") or ns == "prod"
            or any(f.endswith(("environments/prod.yaml", "environments/prod.yml")) for f in app.get("valueFiles", [])))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sources(spec: dict) -> list[dict]:
    listed = spec.get("sources")
    raw = listed if isinstance(listed, list) else ([spec["source"]] if isinstance(spec.get("source"), dict) else [])
    return [s for s in raw if isinstance(s, dict)]


def _fields(app, chart: str | None, files: list[str]) -> dict[str, Any]:
    manifest = app.manifest if isinstance(app.manifest, dict) else {}
    spec = _mapping(manifest.get("spec"))
    dest = _mapping(spec.get("destination"))
    raw = _sources(spec)
    chart_source = next((s for s in raw if s.get("path") == chart and chart is not None), raw[0] if raw else {})
    sync = _mapping(spec.get("syncPolicy"))
    automated = sync.get("automated")
    enabled = isinstance(automated, dict) and automated.get("enabled", True) is not False
    auto = automated if isinstance(automated, dict) else {}
    return {
        "project": spec.get("project"),
        "destination.server": dest.get("server") or dest.get("name"),
        "destination.namespace": dest.get("namespace"),
        "chart": chart,
        "targetRevision": chart_source.get("targetRevision"),
        "valueFiles": files,
        "syncPolicy.automated": enabled,
        "syncPolicy.automated.prune": bool(auto.get("prune", False)) if enabled else None,
        "syncPolicy.automated.selfHeal": bool(auto.get("selfHeal", False)) if enabled else None,
        # the rest of syncPolicy (syncOptions, retry...), so no change to it goes unseen
        "syncPolicy": {k: v for k, v in sync.items() if k != "automated"} or None,
    }


def generated_apps(side: Side) -> list[dict]:
    from checks.engines.appsets import resolve_value_file
    from checks.rules.appset_checks import app_customer

    out = []
    for gen in side.generations():
        for app in gen.apps:
            chart = next((s.path for s in app.sources if s.repo == INFRA and s.path), None)
            files = [f"{r or '?'}:{p}" for r, p in (resolve_value_file(app, s, e) for s, _, e in app.value_files)]
            out.append({"applicationset": gen.appset.name, "file": gen.appset.path, "name": app.name,
                        "namespace": app.namespace, "customer": app_customer(app), "chart": chart, "valueFiles": files,
                        "fields": _fields(app, chart, files)})
    return out
