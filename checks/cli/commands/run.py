"""`python -m checks [run]`: parse the options into a RunRequest, run the service (checks/service/run.py),
exit 0 (passed), 1 (findings at or above --fail-on) or 2 (the run could not be made)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from checks import __version__
from checks.cli.common import (
    DIFF_FORMATS,
    EXIT_FINDINGS,
    EXIT_OK,
    FINDING_FORMATS,
    Parser,
    UsageError,
    add_infra_revision_options,
    add_junit_option,
    add_repo_options,
    check_infra_revisions,
    parse_reports,
)
from checks.cli.subcommands import subcommands_help
from checks.core import progress
from checks.core.settings import POLICY_ENGINES
from checks.service.run import RunRequest, run

if TYPE_CHECKING:
    from checks.publish.bitbucket import Target


def run_parser() -> Parser:
    p = Parser(prog="python -m checks", description="Run every enabled check (the default command).",
               epilog=subcommands_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gitops-checks {__version__}")
    add_repo_options(p)
    p.add_argument("--base", metavar="REV", help="PR mode: check what base...head changes (merge base to head)")
    p.add_argument("--head", metavar="REV", help="head revision of customer-configs (default: the working tree)")
    p.add_argument("--files", nargs="*", metavar="PATH",
                   help="check what these files can affect, as PR mode would (pre-commit passes the commit's files; "
                        "paths relative to the current folder)")
    add_infra_revision_options(p)
    p.add_argument("--pairing", metavar="TEXT",
                   help="how the other repository was chosen (CI: its branch named like the PR's, or its default "
                        "branch); shown in every report")
    p.add_argument("--check", action="append", default=[], metavar="ID|FAMILY", help="run only these (repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="ID|FAMILY", help="skip these (repeatable)")
    p.add_argument("--fail-on", choices=["error", "warning", "notice"],
                   help="lowest severity that fails the run (default: error)")
    p.add_argument("--report", action="append", default=[], metavar="FORMAT[=PATH]",
                   help=f"{', '.join(FINDING_FORMATS)}, bitbucket, or with --base "
                        f"{', '.join('diff-' + f for f in DIFF_FORMATS)}; to PATH or stdout (repeatable; "
                        "console on stdout when no report goes there)")
    add_junit_option(p)
    p.add_argument("--baseline", type=Path, metavar="FILE", help="hide findings recorded in this baseline")
    p.add_argument("--write-baseline", type=Path, metavar="FILE",
                   help="record the current findings as a baseline and exit 0")
    p.add_argument("--explain-scope", action="store_true", help="print which units and files were selected, and why")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is drawn on stderr only when stderr is a terminal and the run "
                        "takes more than a second)")
    p.add_argument("--policy-engine", choices=POLICY_ENGINES,
                   help="Rego engine: conftest when on PATH (auto), conftest, or the embedded regorus")
    p.add_argument("--shard", metavar="K/N", help="check the K-th of N deterministic parts of the units and files")
    p.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="keep parse results here, keyed by content (GITOPS_CHECKS_CACHE_DIR); restore it in CI")
    bb = p.add_argument_group("Bitbucket Data Center (--report bitbucket; token only from BITBUCKET_TOKEN)")
    bb.add_argument("--bitbucket-url", help="e.g. http://localhost:7990 (BITBUCKET_URL)")
    bb.add_argument("--bitbucket-project", help="project key (BITBUCKET_PROJECT)")
    bb.add_argument("--bitbucket-repo", help="repository slug (BITBUCKET_REPO)")
    bb.add_argument("--commit", help="commit the status belongs to (BITBUCKET_COMMIT, GIT_COMMIT)")
    bb.add_argument("--pr", help="pull request id: statuses go to its head commit, the diff to a comment "
                                 "(BITBUCKET_PR)")
    return p


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        raise UsageError(f"--shard {text}: expected K/N with 1 <= K <= N")
    return int(k), int(n)


def cmd_run(args: argparse.Namespace) -> int:
    outcome = run(run_request(args))
    if outcome.baseline_written is not None:
        print(f"gitops-checks: wrote {outcome.baseline_written} findings to {args.write_baseline}", file=sys.stderr)
        return EXIT_OK
    return EXIT_FINDINGS if outcome.failed else EXIT_OK


def run_request(args: argparse.Namespace) -> RunRequest:
    """The parsed options as a request; options that contradict each other are a usage error (exit 2)."""
    specs = parse_reports(args.report)
    bitbucket = _bitbucket_target(args) if any(f == "bitbucket" for f, _ in specs) else None
    shard = _shard(args.shard)
    reports = [(f, p) for f, p in specs if f != "bitbucket" and not f.startswith("diff-")]
    diff_reports = [(f[len("diff-"):], p) for f, p in specs if f.startswith("diff-")]
    if diff_reports and not (args.base or args.infra_base):
        raise UsageError("diff reports need --base REV or --infra-base REV")
    if args.files is not None and (args.base or args.infra_base):
        raise UsageError("--files and --base/--infra-base both say what changed: give one")
    if args.files is not None and not args.files:
        raise UsageError("--files needs at least one path (pre-commit passes the commit's files)")
    check_infra_revisions(args)
    return RunRequest(
        configs=args.configs, infra=args.infra, config=args.config, base=args.base, head=args.head,
        infra_base=args.infra_base, infra_head=args.infra_head, files=args.files, pairing=args.pairing or "",
        check=args.check, skip=args.skip, fail_on=args.fail_on, policy_engine=args.policy_engine,
        reports=reports, diff_reports=diff_reports, junit_granularity=args.junit_granularity,
        baseline=args.baseline, write_baseline=args.write_baseline, explain_scope=args.explain_scope,
        progress=progress.wanted(args.no_progress), shard=shard, cache_dir=args.cache_dir,
        bitbucket=bitbucket)


def _bitbucket_target(args: argparse.Namespace) -> Target:
    from checks.publish.bitbucket import BitbucketError, Target  # only when publishing

    try:
        return Target.from_options(args.bitbucket_url, args.bitbucket_project, args.bitbucket_repo, args.commit,
                                   args.pr)
    except BitbucketError as exc:
        raise UsageError(str(exc)) from None


def main(argv: list[str]) -> int:
    return cmd_run(run_parser().parse_args(argv))
