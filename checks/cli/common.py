"""What every subcommand shares: the parser that never exits, the shared options and report specs,
and the exit codes. The repositories (service/repositories.py) and report writing (reports/output.py)
are re-exported here for the commands that are not services yet (values, apps, policy, merge-reports)."""

from __future__ import annotations

import argparse
from pathlib import Path

from checks.core.errors import UsageError
from checks.core.settings import SETTINGS_FILE
from checks.reports.output import ReportError, ReportSpec, emit, emit_all, use_color, write_reports
from checks.service.repositories import configs_root, open_sources, read_settings, repos, require_layout

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DIFF_FORMATS = ("text", "markdown", "html", "json")
# the finding reporters of checks.reports.reporters(), named here so --help needs no import (a test keeps them equal)
FINDING_FORMATS = ("console", "json", "junit", "sarif")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)



def add_repo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configs", type=Path, metavar="DIR",
                   help="customer-configs root (default: the git checkout around the current folder)")
    p.add_argument("--infra", type=Path, metavar="DIR",
                   help="platform-infrastructure root (charts, ApplicationSets); optional")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help=f"settings file (default: {SETTINGS_FILE} at the configs root)")


def add_infra_revision_options(p: argparse.ArgumentParser) -> None:
    """The platform-infrastructure twins of --base/--head (a PR to that repository, or a pair)."""
    p.add_argument("--infra-base", metavar="REV",
                   help="PR mode for platform-infrastructure: check what infra-base...infra-head changes "
                        "(from the merge base); alone or with --base")
    p.add_argument("--infra-head", metavar="REV",
                   help="head revision of platform-infrastructure (default: the working tree of --infra)")


def check_infra_revisions(args: argparse.Namespace) -> None:
    if (args.infra_base or args.infra_head) and args.infra is None:
        raise UsageError("--infra-base/--infra-head need --infra DIR")


def parse_reports(specs: list[str], known: list[str] | None = None,
                  default: str = "console") -> list[ReportSpec]:
    from checks.reports.formats import reporters  # here: `list` and `explain` need no reporter

    names = known if known is not None else [*reporters(), "bitbucket", *(f"diff-{f}" for f in DIFF_FORMATS)]
    out = []
    for spec in specs or [default]:
        fmt, _, path = spec.partition("=")
        if fmt not in names:
            raise UsageError(f"--report {spec}: unknown format {fmt!r} (known: {', '.join(sorted(names))})")
        out.append((fmt, Path(path) if path else None))
    return out


def add_junit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit-granularity", choices=["coarse", "fine"], default="coarse",
                   help="JUnit test cases: coarse (default) one per check and customer plus one per file with "
                        "findings outside the customers' folders; fine one per check and unit or file examined")


__all__ = ["ReportError", "UsageError", "configs_root", "emit", "emit_all", "open_sources", "read_settings", "repos",
           "require_layout", "use_color", "write_reports"]
