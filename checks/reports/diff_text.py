"""Diff as text, for terminals (coloured on a TTY)."""

from __future__ import annotations

from typing import TextIO

from checks.diffing.units import DiffResult
from checks.reports.diff_render import SYMBOL, groups, path_text, source_text, units_label, value_text

_COLOR = {"added": "\033[32m", "removed": "\033[31m", "changed": "\033[33m", "type": "\033[35m",
          "unevaluated": "\033[31m"}
_RESET = "\033[0m"


def write(result: DiffResult, out: TextIO, color: bool = False) -> None:
    def paint(text: str, kind: str) -> str:
        return f"{_COLOR.get(kind, '')}{text}{_RESET}" if color else text

    s = result.summary()
    out.write(f"effective values: {result.base} -> {result.head}\n")
    out.write(f"{s['units_changed']} changed, {s['units_added']} added, {s['units_removed']} removed"
              f"{', ' + str(s['units_unevaluated']) + ' not evaluated' if s['units_unevaluated'] else ''}"
              f" -- {s['customers_affected']} customers\n")
    for f, n in s["changed_files"].items():
        out.write(f"  {f}: {n} units\n")
    if result.applications:
        for app in result.applications.get("removed", []):
            out.write(paint(f"  application removed (ArgoCD deletes it): {app.get('name')}\n", "removed"))
        for app in result.applications.get("added", []):
            out.write(paint(f"  application added: {app.get('name')}\n", "added"))
    for group in groups(result):
        first = group[0]
        out.write("\n" + paint(f"[{first.status}] {units_label(group)}", first.status) + "\n")
        if first.note:
            out.write(f"  {first.note}\n")
        for c in first.changes:
            where = source_text(c.source)
            if c.kind == "added":
                body = value_text(c.after)
            elif c.kind == "removed":
                body = value_text(c.before)
            else:
                body = f"{value_text(c.before)} -> {value_text(c.after)}"
            out.write(paint(f"  {SYMBOL[c.kind]} {path_text(c.path)}: {body}", c.kind)
                      + (f"   ({where})" if where else "") + "\n")
