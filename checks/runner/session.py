"""The run service: from the settings, both repositories and a scope to a RunResult. The command
line parses options into a RunRequest, works out what a change affects (diffing/pull_request.py),
calls `prepare` and `RunSession.run`, then prints and exits; this module never prints, never exits.
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
from checks.repo.source import Source
from checks.runner.context import Context
from checks.runner.registry import Check, RegistryError, select_checks
from checks.runner.run import RunResult, run_checks
from checks.runner.suppressions import load_baseline
from checks.scope.selection import Scope


@dataclass(frozen=True)
class RunRequest:
    """What the command line asks of a run, parsed."""

    configs: Path
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


def open_store(sources: dict[str, Source], settings: Settings, cache_dir: Path | None) -> DocumentStore:
    """The documents of both repositories, with the on-disk parse cache when one is given."""
    disk_cache = None
    if cache_dir is not None:
        from checks.repo.cache import BlobCache

        disk_cache = BlobCache(cache_dir, settings.limits)
    return DocumentStore(sources, settings.limits, disk_cache=disk_cache)


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


def prepare(request: RunRequest, settings: Settings, store: DocumentStore, checks: list[Check], scope: Scope,
            model: Model | None = None, history: History | None = None) -> RunSession:
    """The run's context over `scope` (a change's, or the full one) and its baseline."""
    scope.shard = request.shard
    ctx = Context(settings, store.sources, store, scope, model=model, history=history)
    path = baseline_path(request, settings)
    baseline = load_baseline(path) if path is not None and request.use_baseline else None
    return RunSession(ctx, checks, baseline)


def baseline_path(request: RunRequest, settings: Settings) -> Path | None:
    """--baseline as given, else the settings' baseline relative to the configs root."""
    if request.baseline is not None:
        return request.baseline
    if not settings.baseline:
        return None
    path = Path(settings.baseline)
    return path if path.is_absolute() else request.configs / path
