"""Run reporters, looked up by name. A reporter formats; it never decides pass or fail."""

from __future__ import annotations

from checks.reports.base import Reporter


def reporters() -> dict[str, Reporter]:
    # imported when asked for: a run that writes only the console report never loads the others
    from checks.reports import console, json_report, junit, sarif

    return {"console": console.write, "json": json_report.write, "junit": junit.write, "sarif": sarif.write}
