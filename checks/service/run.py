"""The run: what `python -m checks [run]` does once its options are parsed.

In order: the repositories and settings (PR mode: the gate's settings, policies and baseline
from the merge base), the scope of the change (diffing works it out; the runner is given it),
the checks, the local reports (diff reports, then run reports, each written whole), and last
Bitbucket (status, Code Insights, PR comment): a slow or failing server never costs a report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from checks.core import progress
from checks.core.errors import UsageError
from checks.core.findings import Severity
from checks.core.settings import Settings, conftest_binary
from checks.core.settings import cache_dir as env_cache_dir
from checks.diffing.pull_request import PullRequest, pull_request, scope_of
from checks.diffing.revisions import revision_diff
from checks.diffing.sides import Side, side_at
from checks.model.platform import CONFIGS, INFRA, Model
from checks.repo.documents import DocumentStore
from checks.repo.history import History
from checks.repo.source import Change, Source, WorkingTreeSource, commits_between
from checks.reports.output import ReportError, ReportSpec, write_diff_reports, write_reports
from checks.runner.context import Context
from checks.runner.registry import Check, select_checks
from checks.runner.run import RunResult, run_checks
from checks.runner.suppressions import BaselineError, load_baseline, parse_baseline, write_baseline
from checks.runner.trust import Trust, open_trust, relative_to_configs
from checks.scope.selection import full_scope, scope_for_changes
from checks.service.repositories import repos, require_layout

if TYPE_CHECKING:
    from checks.publish.bitbucket import Publisher, Target


@dataclass(frozen=True)
class RunRequest:
    """A run, as the command line (or any caller) asks for it."""

    configs: Path | None = None  # None: the git checkout around the current folder
    infra: Path | None = None
    config: Path | None = None  # the settings file (default: the one at the configs root)
    base: str | None = None  # PR mode for customer-configs
    head: str | None = None  # None: the working tree
    infra_base: str | None = None
    infra_head: str | None = None
    files: Sequence[str] | None = None  # pre-commit: the commit's files, relative to the current folder
    pairing: str = ""
    check: Sequence[str] = ()
    skip: Sequence[str] = ()
    fail_on: str | None = None
    policy_engine: str | None = None
    reports: Sequence[ReportSpec] = ()  # run reports (console on stdout is added when nothing goes there)
    diff_reports: Sequence[ReportSpec] = ()
    junit_granularity: str = "coarse"
    baseline: Path | None = None
    write_baseline: Path | None = None
    explain_scope: bool = False
    progress: bool = False
    shard: tuple[int, int] | None = None
    cache_dir: Path | None = None
    bitbucket: Target | None = None  # publish to Bitbucket after the local reports (with a PR: its comment)


@dataclass
class RunOutcome:
    result: RunResult
    failed: bool
    baseline_written: int | None = None  # how many findings `write_baseline` recorded


def run(request: RunRequest) -> RunOutcome:
    """Checks, local reports, then Bitbucket. Raises UsageError, SourceError, ConfigError,
    BaselineError (nothing ran) or ReportError (a report could not be written; the others were,
    and Bitbucket still got the verdict)."""
    publisher = _publisher(request.bitbucket)
    with repos(request.configs, request.infra, request.config, request.head, request.infra_head,
               settings_file=not request.base) as (configs, sources, settings), contextlib.ExitStack() as cleanup:
        pr = pull_request(configs, request.infra, request.base, request.head, request.infra_base, request.infra_head)
        trust = None
        if request.base:  # PR mode: the gate's own settings, policies and baseline come from the merge base
            trust, settings = open_trust(configs, sources[CONFIGS], request.base, request.head, request.config,
                                         pr.configs.changes if pr.configs else [])
            cleanup.callback(trust.base.close)
        _apply_options(settings, request)
        checks = _checks(settings, request)
        require_layout(configs, sources[CONFIGS], request.configs is not None)
        ctx = _context(request, configs, sources, settings, pr, trust)
        cleanup.callback(ctx.release_shared)
        if request.explain_scope:
            explain_scope(ctx, sys.stderr)
        baseline = None if request.write_baseline else _baseline(request.baseline, settings, configs, trust)
        result = _run_checks(ctx, checks, baseline, request.progress)
        result.pairing = request.pairing
        diff = None
        commented = request.bitbucket is not None and request.bitbucket.pr is not None
        if request.diff_reports or (commented and pr.active):
            # the run's own revision (documents, values, Applications), over the change's whole scope
            head = Side(ctx.revision, ctx.scope, ctx.applications)
            diff = revision_diff(pr, head, scope=dataclasses.replace(ctx.scope, shard=None, part=None))
            write_diff_reports(diff, request.diff_reports)
    if request.write_baseline:
        write_baseline(request.write_baseline, result.findings)
        return RunOutcome(result, False, baseline_written=len(result.findings))
    failed = result.failed(settings.fail_on)
    unwritten = None
    try:
        write_reports(result, request.reports, settings, request.shard, request.junit_granularity)
    except ReportError as exc:  # the others were written; Bitbucket still gets the verdict
        unwritten = exc
    if publisher is not None:  # after every local report: Bitbucket can never cost one
        from checks.publish.comment import comment_body

        publisher.publish(result, failed, comment_body(result, diff, settings.fail_on))
    if unwritten is not None:
        raise unwritten
    return RunOutcome(result, failed)


def _publisher(target: Target | None) -> Publisher | None:
    """Made before anything runs, so a bad URL is a usage error (exit 2) at once; its first
    call waits for the local reports."""
    if target is None:
        return None
    from checks.publish.bitbucket import BitbucketError, Publisher

    try:
        return Publisher(target)
    except BitbucketError as exc:
        raise UsageError(str(exc)) from None


def _apply_options(settings: Settings, request: RunRequest) -> None:
    if request.fail_on:
        settings.fail_on = Severity.parse(request.fail_on)
    if request.policy_engine:
        settings.policy_engine = request.policy_engine
    if settings.policy_engine == "conftest" and not conftest_binary():
        raise UsageError("--policy-engine conftest: conftest is not on PATH (install it, or use regorus)")


def _checks(settings: Settings, request: RunRequest) -> list[Check]:
    check_classes = select_checks(settings.enable, settings.disable, list(request.check), list(request.skip))
    if not check_classes:
        raise UsageError("no check selected (--check/--skip and the settings' checks.enable/disable leave "
                         "nothing to run; see `python -m checks list`)")
    return [cls(settings.check_options(cls.id)) for cls in check_classes]


def _context(request: RunRequest, configs: Path, sources: dict[str, Source], settings: Settings,
             pr: PullRequest, trust: Trust | None) -> Context:
    """The checks' context: the documents (through the on-disk cache when asked), and the scope
    diffing works out for a PR or the pre-commit files (the runner is given it, never computes it)."""
    disk_cache = None
    cache_dir = request.cache_dir or env_cache_dir()
    if cache_dir is not None:
        from checks.repo.cache import BlobCache

        disk_cache = BlobCache(cache_dir, settings.limits)
    store = DocumentStore(sources, settings.limits, disk_cache=disk_cache)
    scope, model, histories = full_scope(), None, {}
    if pr.active:
        scope = scope_of(pr, side_at(settings, sources, store))
        if request.base:
            histories[CONFIGS] = History(configs, commits_between(configs, request.base, request.head))
        if request.infra_base and request.infra is not None:
            # a secret added and removed again in an infra PR is in that repository's history too
            histories[INFRA] = History(request.infra, commits_between(request.infra, request.infra_base,
                                                                      request.infra_head))
    elif request.files is not None:
        scope = scope_for_changes(given_files(configs, request.files))
    if (pr.active or request.files is not None) and not scope.full and not scope.products:
        # only some customers changed: read just their metadata and subscriptions, and walk
        # only their folders of a working tree (the other customers' files from git's index)
        model = Model(store, settings.environments, set(scope.customers))
        if isinstance(configs_source := sources[CONFIGS], WorkingTreeSource):
            configs_source.walk_customers_only(set(scope.customers))
    scope.shard = request.shard
    return Context(settings, sources, store, scope, model=model, histories=histories,
                   trust=trust)


def _run_checks(ctx: Context, checks: list[Check], baseline: dict[str, dict] | None, show: bool) -> RunResult:
    totals = ((len(ctx.yaml_files()) + len(ctx.terraform_files()), len(ctx.units()), len(checks))
              if show else (0, 0, 0))
    with progress.ProgressBar(*totals, enabled=show):
        return run_checks(ctx, checks, baseline)


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


def given_files(configs: Path, files: Sequence[str]) -> list[Change]:
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


def explain_scope(ctx: Context, out: TextIO) -> None:
    scope = ctx.scope
    if scope.note:
        out.write(f"scope: {scope.note}\n")
    else:
        out.write("scope: " + ("full run" if scope.full else "changes only") + "\n")
    for reason in scope.reasons:
        out.write(f"  - {reason}\n")
    out.write(f"  units selected: {len(ctx.units())}\n")
