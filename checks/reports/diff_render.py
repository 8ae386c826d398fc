"""Shared by the diff formats: short value text and grouping of units with identical changes."""

from __future__ import annotations

import json
from typing import Any

from checks.diffing.units import DiffResult, UnitDiff
from checks.reports.console import clean

SYMBOL = {"added": "+", "removed": "-", "changed": "~", "type": "!"}


def value_text(value: Any, limit: int = 160) -> str:
    if isinstance(value, str) and value.startswith("*** (sha256:"):
        return value
    text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_text(path: list[str]) -> str:
    return ".".join(p if "." not in p and "=" not in p else f"[{p}]" for p in path) or "(root)"


def source_text(change_source: dict | None) -> str:
    """Where a value was set, repository included (the chart's values.yaml lives in platform-infrastructure)."""
    if not change_source:
        return ""
    repo = change_source.get("repo")
    return f"{repo + '/' if repo else ''}{change_source['path']}:{change_source.get('line') or '?'}"


def set_in_text(c) -> str:
    """Where a change's value was set; both sides when the value before came from another file (promotion)."""
    if c.before_source:
        return f"now: {source_text(c.before_source)}; after: {source_text(c.source)}"
    return source_text(c.source)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def signature(unit: UnitDiff) -> str:
    return json.dumps([unit.status, unit.note] + [[c.path, c.kind, c.before, c.after, c.source, c.before_source]
                                                  for c in unit.changes], sort_keys=True, default=str)


def groups(result: DiffResult) -> list[list[UnitDiff]]:
    """Units whose changes are identical (a base-values change to many customers) shown once."""
    by_sig: dict[str, list[UnitDiff]] = {}
    for unit in result.units:
        by_sig.setdefault(signature(unit), []).append(unit)
    order = {"removed": 0, "unevaluated": 1, "changed": 2, "added": 3}
    return sorted(by_sig.values(), key=lambda g: (order.get(g[0].status, 9), -len(g), g[0].unit))


def units_label(group: list[UnitDiff], limit: int = 6) -> str:
    """A short name for a group (the full list is `units_list`)."""
    names = [u.unit.label for u in group]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def group_scope(group: list[UnitDiff]) -> str:
    """"488 units of analytics in dev, prod, staging": how wide a group of identical changes reaches."""
    if len(group) == 1:
        return f"1 unit: {group[0].unit.label}"
    products = sorted({u.unit.product for u in group})
    envs = sorted({u.unit.environment for u in group})
    customers = {u.unit.customer for u in group}
    return (f"{plural(len(group), 'unit')} of {', '.join(products)} in {', '.join(envs)} "
            f"({plural(len(customers), 'customer')})")


def units_list(group: list[UnitDiff]) -> str:
    """Every unit of a group, compactly: `acme (dev, prod), globex (prod)` (product named when several)."""
    return labels_list([u.unit.label for u in group])


def labels_list(labels: list[str]) -> str:
    """Unit labels `customer/product/env`, compactly: `acme (dev, prod), globex (prod)`, or with the product
    (`acme/billing (dev)`) when there are several products."""
    triples = [label.split("/") for label in labels]
    several = len({t[1] for t in triples if len(t) == 3}) > 1
    by_owner: dict[str, list[str]] = {}
    for t in triples:
        if len(t) != 3:
            by_owner.setdefault("/".join(t), [])
            continue
        owner = f"{t[0]}/{t[1]}" if several else t[0]
        by_owner.setdefault(owner, []).append(t[2])
    return ", ".join(f"{owner} ({', '.join(sorted(envs))})" if envs else owner
                     for owner, envs in sorted(by_owner.items()))


def change_text(c, limit: int = 160) -> str:
    """One change in a line: `image.tag: "2.14.3" → "2.15.0"`."""
    if c.kind == "added":
        body = f"added {value_text(c.after, limit)}"
    elif c.kind == "removed":
        body = f"removed (was {value_text(c.before, limit)})"
    else:
        body = f"{value_text(c.before, limit)} → {value_text(c.after, limit)}"
    return f"{path_text(c.path)}: {body}"


def group_title(group: list[UnitDiff]) -> str:
    """What a group's change is, in one line: its only change, or how many."""
    first = group[0]
    if first.status in ("added", "removed", "unevaluated"):
        what = {"added": "new unit", "removed": "unit removed", "unevaluated": "not evaluated"}[first.status]
        return f"{what} ({plural(len(first.changes), 'value')})" if first.changes else what
    if len(first.changes) == 1:
        return change_text(first.changes[0], 60)
    return plural(len(first.changes), "change")


def application_lines(result: DiffResult, limit: int = 200, kinds: tuple[str, ...] = ("removed", "changed", "added"),
                      ) -> list[tuple[str, str]]:
    """(kind, text) for the Applications a change removes, changes and adds, removed and highlighted
    first: ArgoCD deletes a removed one on merge; a prod Application turning automated sync on deploys
    without anyone pressing sync."""
    apps = result.applications or {}
    lines: list[tuple[str, str]] = []
    changed = sorted(apps.get("changed", []), key=lambda a: a.get("name") or "")
    flagged = 0
    for app in apps.get("removed", []) if "removed" in kinds else []:
        lines.append(("removed", f"application removed (ArgoCD deletes it): {clean(str(app.get('name')))}"))
    for app in changed if "changed" in kinds else []:
        fields = "; ".join(f"{clean(c['field'])}: {value_text(c['before'], 60)} -> {value_text(c['after'], 60)}"
                           for c in app.get("changes", []))
        note = f" ({app['highlight']})" if app.get("highlight") else ""
        text = f"application changed{note}: {clean(str(app.get('name')))}: {fields}"
        # what ArgoCD will do on its own comes first: prod turning automated sync on, then deletions
        if note:
            flagged += 1
            lines.insert(flagged - 1, ("type", text))
        else:
            lines.append(("changed", text))
    for app in apps.get("added", []) if "added" in kinds else []:
        lines.append(("added", f"application added (ArgoCD creates it): {clean(str(app.get('name')))}"))
    if len(lines) > limit:
        lines = [*lines[:limit], ("changed", f"... and {len(lines) - limit} more applications (see the JSON report)")]
    return lines


def schema_lines(result: DiffResult, limit: int = 20) -> list[tuple[str, str]]:
    """(kind, text) per changed values.schema.json: the units it makes fail, and those it lets pass."""
    lines: list[tuple[str, str]] = []
    for entry in result.schemas or []:
        failing, passing = entry["now_failing"], entry["now_passing"]
        lines.append(("changed", f"schema of {entry['product']} changed ({', '.join(entry['schemas'])}): "
                                 f"{len(failing)} of {entry['units_compared']} units now fail, "
                                 f"{len(passing)} now pass"))
        for f in failing[:limit]:
            lines.append(("removed", f"now fails: {f['unit']}: {clean(str(f['error']))}"))
        if len(failing) > limit:
            lines.append(("removed", f"... and {len(failing) - limit} more units now fail"))
        for label in passing[:limit]:
            lines.append(("added", f"now passes: {label}"))
        if len(passing) > limit:
            lines.append(("added", f"... and {len(passing) - limit} more units now pass"))
    return lines
