"""The reports, looked up by name: one interface per result type. A run report renders a
RunResult (through ReportContext); a diff report renders a DiffResult. A report formats; it
never decides pass or fail. Publishing (Bitbucket) is not a report: see checks/publish/."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from checks.reports.base import Reporter

if TYPE_CHECKING:
    from checks.diffing.units import DiffResult

DiffReporter = Callable[["DiffResult", TextIO], None]


def reporters() -> dict[str, Reporter]:
    """Run reports by name."""
    # imported when asked for: a run that writes only the console report never loads the others
    from checks.reports import console, json_report, junit, sarif

    return {"console": console.write, "json": json_report.write, "junit": junit.write, "sarif": sarif.write}


def diff_reporters() -> dict[str, DiffReporter]:
    """Diff reports by name (`text` also takes `color=`)."""
    from checks.reports import diff_html, diff_json, diff_markdown, diff_text

    return {"text": diff_text.write, "markdown": diff_markdown.write, "html": diff_html.write,
            "json": diff_json.write}
