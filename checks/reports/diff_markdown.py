"""Diff as Markdown for a Bitbucket Data Center PR comment: pure CommonMark plus tables.

Bitbucket Data Center escapes every HTML tag, so nothing here is HTML: no <details>, no
HTML comment markers. Summary first, then one section per group of units with identical
changes (every unit of the group named), capped at about 30,000 characters with a pointer
to the HTML report. Text from the repositories is backslash-escaped, never entity-escaped
(an entity inside a code span would show as `&lt;`).
"""

from __future__ import annotations

import re
from typing import TextIO

from checks.diffing.units import DiffResult, UnitDiff
from checks.reports.base import DiffReportContext
from checks.reports.diff_render import (
    application_lines,
    group_scope,
    group_title,
    groups,
    labels_list,
    path_text,
    plural,
    schema_lines,
    set_in_text,
    units_list,
    value_text,
)

LIMIT = 30_000
TITLE = "### Effective values"  # the first words of the report, also how tests and readers find it
UNITS_LIST_LIMIT = 4_000  # a group's unit list longer than this is left to the HTML report
_ESCAPE = re.compile(r"([\\`*_<>\[\]|&#~!])")


def text(value: str) -> str:
    """Plain text that renders as itself: Markdown punctuation and `<` backslash-escaped, one line."""
    return _ESCAPE.sub(r"\\\1", value.replace("\r", " ").replace("\n", " "))


def code(value: str, in_table: bool = False) -> str:
    """An inline code span that holds any text (backticks inside get a longer fence)."""
    value = value.replace("\r", " ").replace("\n", " ")
    if in_table:
        value = value.replace("|", "\\|")  # GFM tables split on | even inside code spans
    longest = max((len(m) for m in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def render(result: DiffResult, limit: int = LIMIT, html_artifact: str = "the HTML diff report") -> str:
    s = result.summary()
    head = [f"{TITLE}: {code(result.base)} → {code(result.head)}", ""]
    if result.mode == "environments":
        head += [f"**Promotion view** at {text(str(result.revision))}: what **{text(str(result.to_env))}** becomes "
                 f"if it takes **{text(str(result.from_env))}**'s values, read as {code(result.base)} → "
                 f"{code(result.head)}.", ""]
    counts = (f"**{plural(s['units_changed'], 'unit')} changed, {s['units_added']} added, "
              f"{s['units_removed']} removed** across **{plural(s['customers_affected'], 'customer')}**")
    if s["units_unevaluated"]:
        counts += f"; **{s['units_unevaluated']} not evaluated**"
    head += [counts, ""]
    removed = [u.unit.label for u in result.units if u.status == "removed"]
    if removed:
        head += [f"> **{plural(len(removed), 'unit')} removed:** merging makes ArgoCD delete the running apps of "
                 f"{text(', '.join(removed))}", ""]
    apps = result.applications or {}
    if apps.get("removed"):
        names = ", ".join(str(a.get("name", "?")) for a in apps["removed"])
        head += [f"> **{plural(len(apps['removed']), 'Application')} removed** (merging deletes "
                 f"{'it' if len(apps['removed']) == 1 else 'them'}): {text(names)}", ""]
    if apps.get("added"):
        names = ", ".join(str(a.get("name", "?")) for a in apps["added"])
        head += [f"**{plural(len(apps['added']), 'Application')} added** (ArgoCD creates "
                 f"{'it' if len(apps['added']) == 1 else 'them'}): {text(names)}", ""]
    extra = application_lines(result, limit=60, kinds=("changed",)) + schema_lines(result)
    if extra:
        head += ["**Application and schema changes**", ""]
        for kind, line in extra:
            bold = "**" if kind in ("removed", "type") else ""  # prod turning auto-sync on; units now failing
            head.append(f"- {bold}{text(line)}{bold}")
        head.append("")
    if s["by_product_environment"]:
        head += ["| product / environment | units |", "|---|---:|"]
        head += [f"| {text(k)} | {v} |" for k, v in s["by_product_environment"].items()] + [""]
    if s["changed_files"]:
        head += ["**Changed files** (units whose diff each caused)", ""]
        head += [f"- {code(f)}: {plural(n, 'unit')}" for f, n in s["changed_files"].items()] + [""]
    body = "\n".join(head)
    sections = [_section(g, html_artifact) for g in groups(result)]
    shadow = _shadowed(result)
    if shadow:
        sections.insert(0, shadow)
    ignored = _ignored(result)
    if ignored:
        sections.append(ignored)
    for i, section in enumerate(sections):
        if len(body) + len(section) > limit - 400:
            body += (f"\n\n**Truncated:** {plural(len(sections) - i, 'more section')} not shown here (Bitbucket "
                     f"comments are capped); see {html_artifact} for the full diff.\n")
            break
        body += section
    return body


def _section(group: list[UnitDiff], html_artifact: str) -> str:
    first = group[0]
    lines = ["", "", "---", "", f"#### {first.status}: {text(group_title(group))}", "", text(group_scope(group)), ""]
    if len(group) > 1:
        every = units_list(group)
        if len(every) <= UNITS_LIST_LIMIT:
            lines += [f"Units: {text(every)}", ""]
        else:
            lines += [f"Units: the list of all {len(group)} is in {text(html_artifact)}.", ""]
    if first.note:
        lines += [text(first.note), ""]
    if first.changes:
        lines += ["| key | change | before | after | set in |", "|---|---|---|---|---|"]
        for c in first.changes[:200]:
            before = "" if c.kind == "added" else code(value_text(c.before, 80), True)
            after = "" if c.kind == "removed" else code(value_text(c.after, 80), True)
            lines.append(f"| {code(path_text(c.path), True)} | {c.kind} | {before} | {after} | "
                         f"{text(set_in_text(c))} |")
        if len(first.changes) > 200:
            lines.append(f"| … | {len(first.changes) - 200} more in {text(html_artifact)} | | | |")
    return "\n".join(lines)


def _shadowed(result: DiffResult) -> str:
    """Who does not get a product default's change: an override of theirs hides it."""
    if not result.shadowed:
        return ""
    lines = ["", "", "---", "", "#### Not receiving a default's change", "",
             "These units set the changed key in a later values file (the product's base or environment file "
             "over a chart default, an environment or customer file over a product default), so they keep "
             "their own value:", ""]
    lines += ["| key | new default | units that keep their value | overridden in |", "|---|---|---|---|"]
    for s in result.shadowed:
        units = labels_list(s.units)
        if len(units) > UNITS_LIST_LIMIT:
            units = "the list is in the HTML report"
        where = ", ".join(s.sources[:5]) + (f" and {len(s.sources) - 5} more files (all in the HTML report and "
                                            "the JSON's not_receiving)" if len(s.sources) > 5 else "")
        lines.append(f"| {code(path_text(s.path), True)} | {code(value_text(s.after, 60), True)} | "
                     f"{plural(len(s.units), 'unit')}: {text(units)} | {text(where)} |")
    return "\n".join(lines)


def _ignored(result: DiffResult) -> str:
    """Keys declared as meant to differ between environments: shown apart, not mixed with the rest."""
    if not result.ignored:
        return ""
    lines = ["", "", "---", "", f"#### Meant to differ ({text(', '.join(result.ignore_patterns))})", "",
             "| key | units | example |", "|---|---|---|"]
    for path, (count, example) in result.ignored.items():
        lines.append(f"| {code(path, True)} | {count} | {text(example)} |")
    return "\n".join(lines)


def write(report: DiffReportContext, out: TextIO) -> None:
    result = report.diff
    out.write(render(result) + "\n")
