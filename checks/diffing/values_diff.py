"""Structural diff of two effective-value trees, in the manner of dyff: key paths, not lines.

Lists of maps are matched by an identifier (`name`, then `key`, then `id`, configurable)
when every item on both sides has a unique one; otherwise by position. Reordering a
list matched by identity is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.core.findings import KeyPath

DEFAULT_IDENTIFIERS = ("name", "key", "id")
_MISSING = object()


@dataclass(frozen=True)
class ValueChange:
    path: tuple[str, ...]  # display path: keys, `name=VALUE` for list items matched by identity, else index
    kind: str  # added | removed | changed | type
    before: Any
    after: Any
    base_path: KeyPath  # raw path into the base values (list indexes), for provenance
    head_path: KeyPath  # raw path into the head values


def _category(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _identifier(before: list, after: list, identifiers: tuple[str, ...]) -> str | None:
    items = before + after
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for ident in identifiers:
        ok = True
        for side in (before, after):
            seen = set()
            for item in side:
                value = item.get(ident, _MISSING)
                if value is _MISSING or isinstance(value, (dict, list)) or value in seen:
                    ok = False
                    break
                seen.add(value)
            if not ok:
                break
        if ok:
            return ident
    return None


def diff_values(before: Any, after: Any, identifiers: tuple[str, ...] = DEFAULT_IDENTIFIERS) -> list[ValueChange]:
    out: list[ValueChange] = []
    _diff(before, after, (), (), (), identifiers, out)
    return out


def _diff(before: Any, after: Any, path: tuple, bpath: KeyPath, hpath: KeyPath, identifiers: tuple[str, ...],
          out: list[ValueChange]) -> None:
    if type(before) is type(after) and before == after:
        return  # equal subtrees: one C-level comparison instead of a walk
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(after) + [k for k in before if k not in after]:
            b, a = before.get(key, _MISSING), after.get(key, _MISSING)
            p = (*path, str(key))
            if b is _MISSING:
                out.append(ValueChange(p, "added", None, a, (), (*hpath, key)))
            elif a is _MISSING:
                out.append(ValueChange(p, "removed", b, None, (*bpath, key), ()))
            else:
                _diff(b, a, p, (*bpath, key), (*hpath, key), identifiers, out)
        return
    if isinstance(before, list) and isinstance(after, list):
        ident = _identifier(before, after, identifiers)
        if ident is not None:
            bmap = {item[ident]: (i, item) for i, item in enumerate(before)}
            amap = {item[ident]: (i, item) for i, item in enumerate(after)}
            for value, (ai, item) in amap.items():
                p = (*path, f"{ident}={value}")
                if value not in bmap:
                    out.append(ValueChange(p, "added", None, item, (), (*hpath, ai)))
                else:
                    bi, bitem = bmap[value]
                    _diff(bitem, item, p, (*bpath, bi), (*hpath, ai), identifiers, out)
            for value, (bi, item) in bmap.items():
                if value not in amap:
                    out.append(ValueChange((*path, f"{ident}={value}"), "removed", item, None, (*bpath, bi), ()))
            return
        for i in range(max(len(before), len(after))):
            p = (*path, str(i))
            if i >= len(before):
                out.append(ValueChange(p, "added", None, after[i], (), (*hpath, i)))
            elif i >= len(after):
                out.append(ValueChange(p, "removed", before[i], None, (*bpath, i), ()))
            else:
                _diff(before[i], after[i], p, (*bpath, i), (*hpath, i), identifiers, out)
        return
    cb, ca = _category(before), _category(after)
    if cb != ca:
        kind = "changed" if "null" in (cb, ca) else "type"
        out.append(ValueChange(path, kind, before, after, bpath, hpath))
    elif before != after:
        out.append(ValueChange(path, "changed", before, after, bpath, hpath))
