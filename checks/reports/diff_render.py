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
    if not change_source:
        return ""
    return f"{change_source['path']}:{change_source.get('line') or '?'}"


def signature(unit: UnitDiff) -> str:
    return json.dumps([unit.status, unit.note] + [[c.path, c.kind, c.before, c.after, c.source] for c in unit.changes],
                      sort_keys=True, default=str)


def groups(result: DiffResult) -> list[list[UnitDiff]]:
    """Units whose changes are identical (a base-values change to many customers) shown once."""
    by_sig: dict[str, list[UnitDiff]] = {}
    for unit in result.units:
        by_sig.setdefault(signature(unit), []).append(unit)
    order = {"removed": 0, "unevaluated": 1, "changed": 2, "added": 3}
    return sorted(by_sig.values(), key=lambda g: (order.get(g[0].status, 9), -len(g), g[0].unit))


def units_label(group: list[UnitDiff], limit: int = 6) -> str:
    names = [u.unit.label for u in group]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
