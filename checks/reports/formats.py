"""Every report format, by name, for each kind of result (imported when asked for: a run that
writes only the console report never loads the others)."""

from __future__ import annotations

from checks.reports.base import DiffReport, RunReport


def reporters() -> dict[str, RunReport]:
    """The run reports: a run's findings."""
    from checks.reports import console, json_report, junit, sarif

    return {"console": console.write, "json": json_report.write, "junit": junit.write, "sarif": sarif.write}


def diff_reporters() -> dict[str, DiffReport]:
    """The diff reports: effective-value diffs (`diff --report`, and `run --report diff-FORMAT`)."""
    from checks.reports import diff_html, diff_json, diff_markdown, diff_text

    return {"text": diff_text.write, "markdown": diff_markdown.write, "html": diff_html.write,
            "json": diff_json.write}
