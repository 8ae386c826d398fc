"""Console report: grouped by file, colour only on a terminal, one summary line."""

from __future__ import annotations

import re
from itertools import groupby
from typing import TextIO

from checks.core.findings import Finding, Severity
from checks.core.text import escape_match, printable
from checks.reports.base import ReportContext

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.NOTICE: "\033[36m"}
_RESET, _BOLD, _DIM = "\033[0m", "\033[1m", "\033[2m"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

__all__ = ["clean", "printable", "write"]


def clean(text: str) -> str:
    """Control characters from file content must not drive the reader's terminal."""
    return _CONTROL.sub(escape_match, text)


def _where(f: Finding) -> str:
    if f.repo and f.path:
        return f"{f.repo}/{f.path}"
    return "(run)"


def outside_text(result) -> str:
    n = len(result.outside)
    return f"{n} finding{'s' if n != 1 else ''} outside this change, see a full run"


def write(ctx: ReportContext, out: TextIO) -> None:
    result = ctx.result

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if ctx.color else text

    for where, group in groupby(result.findings, key=_where):
        out.write(paint(printable(where), _BOLD) + "\n")
        for f in group:
            loc = f"{f.line or '-'}:{f.column or '-'}"
            sev = paint(f"{f.severity!s:7}", _COLORS[f.severity])
            unit = "/".join(x for x in (f.customer, f.product, f.environment) if x)
            unit_text = f"  ({printable(unit)})" if unit else ""
            out.write(f"  {loc:>9}  {sev}  {printable(f.message)}{unit_text}  {paint('[' + f.check + ']', _DIM)}\n")
        out.write("\n")
    errors, warnings, notices = (result.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE))
    extra = ""
    if result.suppressed or result.baselined:
        extra = f", {len(result.suppressed)} suppressed, {len(result.baselined)} in baseline"
    for added in result.suppressions_added:
        refused = f", refused for {added['refused']} secrets finding(s)" if added["refused"] else ""
        out.write(printable(f"suppression added by this change: {added['repo']}/{added['path']}:{added['line']} "
                            f"ignore[{added['checks']}] {added['reason']} (hides {added['hid']}{refused})") + "\n")
    verdict = "FAILED" if result.failed(Severity.parse(ctx.fail_on)) else "passed"
    if result.pairing:
        out.write(f"pairing: {clean(result.pairing)}\n")
    if result.outside:
        extra += f", {outside_text(result)}"
    if result.note:
        extra += f" -- {result.note}"
    summary = (f"gitops-checks {verdict}: {errors} errors, {warnings} warnings, {notices} notices{extra} "
               f"-- {len(result.checks_run)} checks, {result.units} units, {result.files} files "
               f"in {result.duration:.2f}s")
    code = _COLORS[Severity.ERROR] if verdict == "FAILED" else "\033[32m"
    out.write(paint(summary, code) + "\n")
