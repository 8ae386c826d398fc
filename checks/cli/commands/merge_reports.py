"""`python -m checks merge-reports`: the shards' JSON reports combined into one verdict."""

from __future__ import annotations

from pathlib import Path

from checks.cli.common import EXIT_FINDINGS, EXIT_OK, Parser, add_junit_option, parse_reports, write_reports
from checks.core.findings import Severity
from checks.core.settings import Settings
from checks.reports.formats import reporters


def cmd_merge_reports(argv: list[str]) -> int:
    """Combine the JSON reports of N shards into one verdict and one set of reports."""
    from checks.reports.merge import merge_json_reports

    p = Parser(prog="python -m checks merge-reports",
                description="Combine the shards' JSON reports (from --shard K/N --report json=...) into one.")
    p.add_argument("inputs", nargs="+", type=Path)
    p.add_argument("--report", action="append", default=[], metavar="FORMAT[=PATH]",
                   help="console, json, junit or sarif (repeatable; default console)")
    add_junit_option(p)
    p.add_argument("--fail-on", choices=["error", "warning", "notice"], default="error")
    args = p.parse_args(argv)
    reports = parse_reports(args.report, [f for f in reporters()])
    result = merge_json_reports(args.inputs)
    settings = Settings(fail_on=Severity.parse(args.fail_on))
    write_reports(result, reports, settings, junit_granularity=args.junit_granularity)
    return EXIT_FINDINGS if result.failed(settings.fail_on) else EXIT_OK

