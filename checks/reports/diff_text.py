"""Diff as text, for terminals (coloured on a TTY): summary, then one block per group of units with
identical changes, every unit named."""

from __future__ import annotations

from typing import TextIO

from checks.core.text import printable
from checks.reports.base import DiffReportContext
from checks.reports.diff_render import (
    SYMBOL,
    application_lines,
    group_scope,
    groups,
    labels_list,
    path_text,
    plural,
    schema_lines,
    set_in_text,
    units_list,
    value_text,
)

_COLOR = {"added": "\033[32m", "removed": "\033[31m", "changed": "\033[33m", "type": "\033[35m",
          "unevaluated": "\033[31m"}
_RESET = "\033[0m"


class _OneLineText:
    """Keys, values, paths and names from the repositories reach a terminal escaped: each line
    written is made printable (no escape sequence, carriage return or bidi override survives),
    then only this module's own colour codes are put back."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        lines = text.split("\n")
        safe = "\n".join(printable(line) for line in lines)
        for code in {*_COLOR.values(), _RESET}:
            safe = safe.replace(printable(code), code)
        return self.out.write(safe)


def write(report: DiffReportContext, out: TextIO) -> None:
    result, color = report.diff, report.color
    out = _OneLineText(out)  # type: ignore[assignment]

    def paint(text: str, kind: str) -> str:
        return f"{_COLOR.get(kind, '')}{text}{_RESET}" if color else text

    s = result.summary()
    out.write(f"effective values: {result.base} -> {result.head}\n")
    if result.mode == "environments":
        out.write(f"promotion view at {result.revision}: what {result.to_env} becomes if it takes "
                  f"{result.from_env}'s values\n")
    out.write(f"{plural(s['units_changed'], 'unit')} changed, {s['units_added']} added, {s['units_removed']} removed"
              f"{', ' + str(s['units_unevaluated']) + ' not evaluated' if s['units_unevaluated'] else ''}"
              f" -- {plural(s['customers_affected'], 'customer')}\n")
    for f, n in s["changed_files"].items():
        out.write(f"  {f}: {plural(n, 'unit')}\n")
    for kind, line in application_lines(result) + schema_lines(result):
        out.write(paint(f"  {line}\n", kind))
    for shadow in result.shadowed:
        out.write(f"\nnot receiving the new default {path_text(shadow.path)} = {value_text(shadow.after, 60)} "
                  f"({shadow.default_file}): {plural(len(shadow.units), 'unit')} override it\n")
        out.write(f"  {labels_list(shadow.units)}\n  overridden in: {', '.join(shadow.sources)}\n")
    for group in groups(result):
        first = group[0]
        out.write("\n" + paint(f"[{first.status}] {group_scope(group)}", first.status) + "\n")
        if len(group) > 1:
            out.write(f"  units: {units_list(group)}\n")
        if first.note:
            out.write(f"  {first.note}\n")
        for c in first.changes:
            where = set_in_text(c)
            if c.kind == "added":
                body = value_text(c.after)
            elif c.kind == "removed":
                body = value_text(c.before)
            else:
                body = f"{value_text(c.before)} -> {value_text(c.after)}"
            out.write(paint(f"  {SYMBOL[c.kind]} {path_text(c.path)}: {body}", c.kind)
                      + (f"   ({where})" if where else "") + "\n")
    if result.ignored:
        out.write(f"\nmeant to differ ({', '.join(result.ignore_patterns)}), not listed above:\n")
        for key, (count, example) in result.ignored.items():
            out.write(f"  {key}: {plural(count, 'unit')}, e.g. {example}\n")
