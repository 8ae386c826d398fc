"""Diff as Markdown for a Bitbucket PR comment: summary first, one collapsible section per group
of units with identical changes, capped at about 30,000 characters."""

from __future__ import annotations

import html
from typing import TextIO

from checks.diffing.units import DiffResult
from checks.reports.diff_render import groups, path_text, source_text, units_label, value_text

LIMIT = 30_000
MARKER = "<!-- gitops-checks:diff -->"


def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def render(result: DiffResult, limit: int = LIMIT, html_artifact: str = "the HTML diff report") -> str:
    s = result.summary()
    head = [MARKER, f"### Effective values: `{_cell(result.base)}` → `{_cell(result.head)}`", "",
            f"**{s['units_changed']} changed, {s['units_added']} added, {s['units_removed']} removed** units "
            f"across **{s['customers_affected']}** customers"
            + (f"; **{s['units_unevaluated']} not evaluated**" if s["units_unevaluated"] else ""), ""]
    if s["units_removed"]:
        removed = [u.unit.label for u in result.units if u.status == "removed"]
        head += [f"> **Removed:** ArgoCD will delete the running apps of {_cell(', '.join(removed[:20]))}"
                 + (f" and {len(removed) - 20} more" if len(removed) > 20 else ""), ""]
    if result.applications and result.applications.get("removed"):
        names = ", ".join(a.get("name", "?") for a in result.applications["removed"][:20])
        head += [f"> **Applications removed** (merging deletes them): {_cell(names)}", ""]
    if s["by_product_environment"]:
        head += ["| product / environment | units |", "|---|---:|"]
        head += [f"| {_cell(k)} | {v} |" for k, v in s["by_product_environment"].items()] + [""]
    if s["changed_files"]:
        head += ["**Changed files → units affected**", ""]
        head += [f"- `{_cell(f)}` → {n}" for f, n in s["changed_files"].items()] + [""]
    text = "\n".join(head)
    all_groups = groups(result)
    for i, group in enumerate(all_groups):
        section = _section(group)
        if len(text) + len(section) > limit - 300:
            text += (f"\n\n**Truncated:** {len(all_groups) - i} more groups of units are not shown here; "
                     f"see {html_artifact} for the full diff.\n")
            break
        text += section
    return text


def _section(group) -> str:
    first = group[0]
    lines = ["", "<details>", f"<summary><b>{first.status}</b>: {_cell(units_label(group))} "
             f"({len(group)} unit{'s' if len(group) > 1 else ''}, {len(first.changes)} changes)</summary>", ""]
    if first.note:
        lines += [_cell(first.note), ""]
    if first.changes:
        lines += ["| key | change | before | after | set in |", "|---|---|---|---|---|"]
        for c in first.changes[:200]:
            before = "" if c.kind == "added" else _cell(value_text(c.before, 80))
            after = "" if c.kind == "removed" else _cell(value_text(c.after, 80))
            lines.append(f"| `{_cell(path_text(c.path))}` | {c.kind} | {before} | {after} | "
                         f"{_cell(source_text(c.source))} |")
        if len(first.changes) > 200:
            lines.append(f"| … | {len(first.changes) - 200} more | | | |")
    lines += ["", "</details>"]
    return "\n".join(lines)


def write(result: DiffResult, out: TextIO) -> None:
    out.write(render(result) + "\n")
