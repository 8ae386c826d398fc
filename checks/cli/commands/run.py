"""`python -m checks [run]`: every enabled check, reports, and publishing to Bitbucket."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import TextIO

from checks import __version__
from checks.cli.commands.diff import write_diff_reports
from checks.cli.common import (
    DIFF_FORMATS,
    EXIT_FINDINGS,
    EXIT_OK,
    FINDING_FORMATS,
    Parser,
    ReportError,
    UsageError,
    add_infra_revision_options,
    add_junit_option,
    add_repo_options,
    check_infra_revisions,
    parse_reports,
    repos,
    require_layout,
    write_reports,
)
from checks.cli.subcommands import subcommands_help
from checks.core import progress
from checks.core.findings import Severity
from checks.core.settings import POLICY_ENGINES, Settings, conftest_binary
from checks.core.settings import cache_dir as env_cache_dir
from checks.core.text import markdown_code, markdown_text
from checks.diffing.pull_request import pull_request, scope_of
from checks.diffing.revisions import revision_diff
from checks.model.platform import CONFIGS, Model
from checks.repo.documents import DocumentStore
from checks.repo.history import History
from checks.repo.source import Change, WorkingTreeSource, commits_between
from checks.runner.context import Context
from checks.runner.registry import select_checks
from checks.runner.run import run_checks
from checks.runner.suppressions import BaselineError, load_baseline, parse_baseline, write_baseline
from checks.runner.trust import Trust, open_trust, relative_to_configs
from checks.scope.selection import full_scope, scope_for_changes


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
    all_reports = parse_reports(args.report)
    publisher = None
    if any(f == "bitbucket" for f, _ in all_reports):
        from checks.publish.bitbucket import BitbucketError, Publisher, Target

        try:
            publisher = Publisher(Target.from_options(args.bitbucket_url, args.bitbucket_project,
                                                      args.bitbucket_repo, args.commit, args.pr))
        except BitbucketError as exc:
            raise UsageError(str(exc)) from None
        all_reports = [(f, p) for f, p in all_reports if f != "bitbucket"]
    shard = _shard(args.shard)
    reports = [(f, p) for f, p in all_reports if not f.startswith("diff-")]
    diff_reports = [(f[len("diff-"):], p) for f, p in all_reports if f.startswith("diff-")]
    if diff_reports and not (args.base or args.infra_base):
        raise UsageError("diff reports need --base REV or --infra-base REV")
    if args.files is not None and (args.base or args.infra_base):
        raise UsageError("--files and --base/--infra-base both say what changed: give one")
    if args.files is not None and not args.files:
        raise UsageError("--files needs at least one path (pre-commit passes the commit's files)")
    check_infra_revisions(args)
    with repos(args.configs, args.infra, args.config, args.head, args.infra_head,
               settings_file=not args.base) as (configs, sources, settings), \
            contextlib.ExitStack() as cleanup:
        pr = pull_request(configs, args.infra, args.base, args.head, args.infra_base, args.infra_head)
        trust = None
        if args.base:  # PR mode: the gate's own settings, policies and baseline come from the merge base
            trust, settings = open_trust(configs, sources[CONFIGS], args.base, args.head, args.config,
                                         pr.configs.changes if pr.configs else [])
            cleanup.callback(trust.base.close)
        if args.fail_on:
            settings.fail_on = Severity.parse(args.fail_on)
        if args.policy_engine:
            settings.policy_engine = args.policy_engine
        _require_conftest(settings)
        check_classes = select_checks(settings.enable, settings.disable, args.check, args.skip)
        if not check_classes:
            raise UsageError("no check selected (--check/--skip and the settings' checks.enable/disable leave "
                             "nothing to run; see `python -m checks list`)")
        checks = [cls(settings.check_options(cls.id)) for cls in check_classes]
        require_layout(configs, sources[CONFIGS], args.configs is not None)
        cache_dir = args.cache_dir or env_cache_dir()
        disk_cache = None
        if cache_dir is not None:
            from checks.repo.cache import BlobCache

            disk_cache = BlobCache(cache_dir, settings.limits)
        store = DocumentStore(sources, settings.limits, disk_cache=disk_cache)
        scope, model, history = full_scope(), None, None
        if pr.active or args.files is not None:
            if pr.active:
                scope = scope_of(pr, Context(settings, sources, store, trust=trust))
                if args.base:
                    scope.commits = commits_between(configs, args.base, args.head)
                    history = History(configs, scope.commits)
            else:
                scope = scope_for_changes(given_files(configs, args.files or []))
            if not scope.full and not scope.products:
                # only some customers changed: read just their metadata and subscriptions, and walk
                # only their folders of a working tree (the other customers' files from git's index)
                model = Model(store, settings.environments, set(scope.customers))
                if isinstance(configs_source := sources[CONFIGS], WorkingTreeSource):
                    configs_source.walk_customers_only(set(scope.customers))
        scope.shard = shard
        ctx = Context(settings, sources, store, scope, model=model, history=history, trust=trust)
        if publisher is not None:
            publisher.start()
        if args.explain_scope:
            _explain_scope(ctx, sys.stderr)
        baseline = None if args.write_baseline else _baseline(args.baseline, settings, configs, trust)
        show = progress.wanted(args.no_progress)
        totals = ((len(ctx.yaml_files()) + len(ctx.terraform_files()), len(ctx.units()), len(checks))
                  if show else (0, 0, 0))
        with progress.ProgressBar(*totals, enabled=show):
            result = run_checks(ctx, checks, baseline)
        diff = None
        result.pairing = args.pairing or ""
        if diff_reports or (publisher is not None and pr.active and args.pr):
            diff = revision_diff(pr, sources, settings, ctx,
                                 scope=dataclasses.replace(ctx.scope, shard=None, part=None))
            write_diff_reports(diff, diff_reports)
    if args.write_baseline:
        write_baseline(args.write_baseline, result.findings)
        print(f"gitops-checks: wrote {len(result.findings)} findings to {args.write_baseline}", file=sys.stderr)
        return EXIT_OK
    unwritten = None
    try:
        write_reports(result, reports, settings, shard, args.junit_granularity)
    except ReportError as exc:  # the others were written; Bitbucket still gets the verdict
        unwritten = exc
    failed = result.failed(settings.fail_on)
    if publisher is not None:  # after the local reports: Bitbucket can never cost them
        publisher.finish(result, failed, _comment_body(result, diff, settings))
    if unwritten is not None:
        raise unwritten
    return EXIT_FINDINGS if failed else EXIT_OK


def _baseline(given: Path | None, settings: Settings, configs: Path, trust: Trust | None) -> dict[str, dict] | None:
    """The baseline: `--baseline FILE` or the settings' `baseline`; in PR mode a file inside the
    repository is read at the merge base (a change cannot baseline its own findings)."""
    path = given or (Path(settings.baseline) if settings.baseline else None)
    if path is None:
        return None
    if given is None and not path.is_absolute():
        path = configs / path
    rel = relative_to_configs(path, configs) if trust is not None else None
    if trust is None or rel is None:
        return load_baseline(path)
    text = trust.read_base_text(rel)
    if text is None:
        if trust.base.entry(rel) is None and given is None:
            return None  # added by this change: it applies once merged (a git/gate-change says so)
        raise BaselineError(f"baseline file {rel} does not exist at the merge base")
    return parse_baseline(text, f"{rel} at the merge base")


def _comment_body(result, diff, settings: Settings) -> str:
    from checks.reports import diff_markdown

    verdict = "failed" if result.failed(settings.fail_on) else "passed"
    from checks.reports.console import clean, outside_text

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
    return head + (diff_markdown.render(diff, limit=28_000) if diff is not None else "")


def given_files(configs: Path, files: list[str]) -> list[Change]:
    """The files pre-commit passes, as the changes of a PR: paths relative to the configs root (files
    outside it are not ours); a file that no longer exists was deleted."""
    root = configs.resolve()
    changes = []
    for name in files:
        full = (Path.cwd() / name).resolve() if not Path(name).is_absolute() else Path(name).resolve()
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            continue
        changes.append(Change("M" if full.exists() else "D", rel))
    return changes


def _require_conftest(settings: Settings) -> None:
    if settings.policy_engine == "conftest" and not conftest_binary():
        raise UsageError("--policy-engine conftest: conftest is not on PATH (install it, or use regorus)")


def _explain_scope(ctx: Context, out: TextIO) -> None:
    scope = ctx.scope
    if scope.note:
        out.write(f"scope: {scope.note}\n")
    else:
        out.write("scope: " + ("full run" if scope.full else "changes only") + "\n")
    for reason in scope.reasons:
        out.write(f"  - {reason}\n")
    out.write(f"  units selected: {len(ctx.units())}\n")



def main(argv: list[str]) -> int:
    return cmd_run(run_parser().parse_args(argv))
