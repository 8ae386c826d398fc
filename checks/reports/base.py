"""The two kinds of report, one interface each: a run report renders a run's findings, a diff
report renders the effective-value diff between revisions or environments. A report formats;
it never decides pass or fail, and it never talks to a server (publishing is checks/publish/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TextIO

from checks.diffing.units import DiffResult
from checks.runner.run import RunResult


@dataclass(frozen=True)
class ReportContext:
    """What a run report is given: the run's result and how to render it."""

    result: RunResult
    color: bool
    fail_on: str
    shard: tuple[int, int] | None = None
    junit_granularity: str = "coarse"  # coarse: a case per check and customer; fine: per unit or file


class RunReport(Protocol):
    """A format of a run's findings (console, json, junit, sarif)."""

    def __call__(self, report: ReportContext, out: TextIO, /) -> None: ...


@dataclass(frozen=True)
class DiffReportContext:
    """What a diff report is given: the diff and how to render it."""

    diff: DiffResult
    color: bool = False  # only the text format has colour


class DiffReport(Protocol):
    """A format of an effective-value diff (text, markdown, html, json)."""

    def __call__(self, report: DiffReportContext, out: TextIO, /) -> None: ...

