"""The text of the pull request comment: the verdict, the suppressions the change adds, and the
effective-value diff in Markdown (within Bitbucket's comment size)."""

from __future__ import annotations

from checks.core.findings import Severity
from checks.core.text import markdown_code, markdown_text
from checks.diffing.units import DiffResult
from checks.reports import diff_markdown
from checks.reports.console import clean, outside_text
from checks.runner.run import RunResult

COMMENT_LIMIT = 28_000  # characters of diff, leaving room for the verdict and the suppressions


def comment_body(result: RunResult, diff: DiffResult | None, fail_on: Severity) -> str:
    verdict = "failed" if result.failed(fail_on) else "passed"
    head = (f"**gitops-checks {verdict}**: {result.count(Severity.ERROR)} errors, "
            f"{result.count(Severity.WARNING)} warnings, {result.units} units checked"
            + (f"; {outside_text(result)}" if result.outside else "")
            + (f" -- {result.note}" if result.note else "") + ".\n\n"
            + (f"Pairing: {clean(result.pairing)}\n\n" if result.pairing else ""))
    if result.suppressions_added:
        head += "Suppressions added by this change (a suppression added here never hides a secret):\n\n"
        for added in result.suppressions_added[:50]:
            refused = f"; refused for {added['refused']} secrets findings" if added["refused"] else ""
            head += (f"- `{markdown_code(added['path'])}:{added['line']}` ignore[{markdown_text(added['checks'])}] "
                     f"{markdown_text(added['reason'])} (hides {added['hid']}{refused})\n")
        head += "\n"
    return head + (diff_markdown.render(diff, limit=COMMENT_LIMIT) if diff is not None else "")
