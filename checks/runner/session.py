"""The run service: from the settings and both repositories to a RunResult. The command line
parses options into a RunRequest, calls `prepare` and `RunSession.run`, then prints and exits;
this module never prints and never exits.

PR mode (`base`): the scope is what base...head changes, the model holds only the changed
customers when no product changed, and the checks that read history get the commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from checks.core import progress
from checks.core.findings import Severity
from checks.core.settings import Settings
from checks.model.platform import Model
from checks.repo.documents import DocumentStore
from checks.repo.history import History
from checks.repo.source import Change, Source, changed_paths, commits_between
from checks.runner.context import Context
from checks.runner.registry import Check, RegistryError, select_checks
from checks.runner.run import RunResult, run_checks
from checks.runner.suppressions import load_baseline
from checks.scope.selection import Scope, full_scope, scope_for_changes


@dataclass(frozen=True)
class RunRequest:
    """What the command line asks for, parsed."""

    configs: Path
    base: str | None = None  # PR mode: base...head
    head: str | None = None  # None: the working tree
    changes: list[Change] | None = None  # pre-commit's --files: what changed, without a base
    only: list[str] = field(default_factory=list)  # --check
    skip: list[str] = field(default_factory=list)  # --skip
    shard: tuple[int, int] | None = None
    cache_dir: Path | None = None
    baseline: Path | None = None  # --baseline (else the settings' baseline, relative to the configs root)
    use_baseline: bool = True  # False when the run writes a new one
    fail_on: str | None = None  # --fail-on, over the settings'
    policy_engine: str | None = None  # --policy-engine, over the settings'


def effective_settings(settings: Settings, request: RunRequest) -> Settings:
    """The settings with the command line's overrides (options win over file and environment)."""
    if request.fail_on:
        settings = replace(settings, fail_on=Severity.parse(request.fail_on))
    if request.policy_engine:
        settings = replace(settings, policy_engine=request.policy_engine)
    return settings


def choose_checks(settings: Settings, request: RunRequest) -> list[Check]:
    """The enabled checks, configured; none at all is an error (a run that checks nothing)."""
    classes = select_checks(settings.enable, settings.disable, request.only, request.skip)
    if not classes:
        raise RegistryError("no check selected (--check/--skip and the settings' checks.enable/disable leave "
                            "nothing to run; see `python -m checks list`)")
    return [cls(settings.check_options(cls.id)) for cls in classes]


@dataclass
class RunSession:
    ctx: Context
    checks: list[Check]
    baseline: dict[str, dict] | None

    def run(self, show_progress: bool = False) -> RunResult:
        ctx = self.ctx
        totals = ((len(ctx.yaml_files()) + len(ctx.terraform_files()), len(ctx.units()), len(self.checks))
                  if show_progress else (0, 0, 0))
        with progress.ProgressBar(*totals, enabled=show_progress):
            return run_checks(ctx, self.checks, self.baseline)


def prepare(request: RunRequest, sources: dict[str, Source], settings: Settings, checks: list[Check]) -> RunSession:
    """The context of the run (documents, scope, model, history) and its baseline."""
    disk_cache = None
    if request.cache_dir is not None:
        from checks.repo.cache import BlobCache

        disk_cache = BlobCache(request.cache_dir, settings.limits)
    store = DocumentStore(sources, settings.limits, disk_cache=disk_cache)
    scope, model, history = full_scope(), None, None
    if request.base or request.changes is not None:
        scope, model, history = _changed_scope(request, store, settings)
    scope.shard = request.shard
    ctx = Context(settings, sources, store, scope, model=model, history=history)
    path = baseline_path(request, settings)
    baseline = load_baseline(path) if path is not None and request.use_baseline else None
    return RunSession(ctx, checks, baseline)


def _changed_scope(request: RunRequest, store: DocumentStore,
                   settings: Settings) -> tuple[Scope, Model | None, History | None]:
    history = None
    if request.base:
        scope = scope_for_changes(changed_paths(request.configs, request.base, request.head))
        scope.commits = commits_between(request.configs, request.base, request.head)
        history = History(request.configs, scope.commits)
    else:
        scope = scope_for_changes(request.changes or [])
    model = None
    if not scope.full and not scope.products:
        # only some customers changed: read just their metadata and subscriptions
        model = Model(store, settings.environments, set(scope.customers))
    return scope, model, history


def baseline_path(request: RunRequest, settings: Settings) -> Path | None:
    """--baseline as given, else the settings' baseline relative to the configs root."""
    if request.baseline is not None:
        return request.baseline
    if not settings.baseline:
        return None
    path = Path(settings.baseline)
    return path if path.is_absolute() else request.configs / path
