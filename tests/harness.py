"""Run checks in this process over a small layout on disk: no subprocess, no copy of the examples.

    findings = run_check("consistency/subscribed-values", tmp_path, files={...})

The layout is real files (a working tree); the run is the real runner (`run_checks`: crash
isolation, suppressions, severity overrides, grouping), only without the command line.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import ROOT, cli_env, run_in_process, write_tree

from checks.core.findings import Finding
from checks.core.settings import Settings
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import DocumentStore
from checks.repo.source import Source, open_source
from checks.runner.configuration import parse_settings_text
from checks.runner.context import Context
from checks.runner.registry import Check, all_checks
from checks.runner.run import RunResult, run_checks
from checks.scope.selection import Scope


@contextmanager
def context(configs: Path, infra: Path | None = None, settings: Settings | None = None,
            scope: Scope | None = None) -> Iterator[Context]:
    """The Context a check is given, over working trees (closed afterwards)."""
    sources: dict[str, Source] = {CONFIGS: open_source(configs, CONFIGS, None)}
    if infra is not None:
        sources[INFRA] = open_source(infra, INFRA, None)
    settings = settings or Settings()
    try:
        yield Context(settings, sources, DocumentStore(sources, settings.limits), scope)
    finally:
        for source in sources.values():
            source.close()


def settings_from(text: str) -> Settings:
    """Settings from the text of a settings file, validated as the command line does."""
    from checks.core.settings import apply_file_data

    settings = Settings()
    apply_file_data(settings, parse_settings_text(text, "settings.yaml"))
    return settings


def run(root: Path, checks: list[str | type[Check]], *, files: dict[str, str | bytes] | None = None,
        infra_files: dict[str, str | bytes] | None = None, settings: Settings | None = None,
        options: dict[str, dict[str, Any]] | None = None) -> RunResult:
    """Write the layout under `root` (customer-configs/ and, if given, platform-infrastructure/)
    and run the named checks over it in this process."""
    configs = root / "customer-configs"
    configs.mkdir(parents=True, exist_ok=True)
    write_tree(configs, files or {})
    infra = None
    if infra_files is not None:
        infra = root / "platform-infrastructure"
        infra.mkdir(parents=True, exist_ok=True)
        write_tree(infra, infra_files)
    known = all_checks()
    settings = settings or Settings()
    classes = [known[c] if isinstance(c, str) else c for c in checks]
    chosen = [cls({**settings.check_options(cls.id), **(options or {}).get(cls.id, {})}) for cls in classes]
    with context(configs, infra, settings) as ctx:
        return run_checks(ctx, chosen, workers=False)


def run_check(check: str | type[Check], root: Path, **kw: Any) -> list[Finding]:
    """The findings of one check (and any `internal/*` finding the run adds)."""
    return run(root, [check], **kw).findings


def run_cli_here(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line's own entry point (`checks.cli.main.main`), in this process: the same
    parsing, run, reports and exit code as `python -m checks`, without starting an interpreter --
    also when `env` holds settings (helpers.run_cli would start one for those). For the process
    boundary itself (signals, forked workers, plugins on PYTHONPATH) use helpers.run_cli(process=True)."""
    return run_in_process([str(a) for a in args], ROOT, cli_env(env))


def run_json_here(*args: str | Path, tmp: Path,
                  **kw: Any) -> tuple[int, dict[str, Any], subprocess.CompletedProcess[str]]:
    """helpers.run_json through the entry point in this process."""
    out = tmp / "report.json"
    proc = run_cli_here(*args, "--report", f"json={out}", **kw)
    data = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, data, proc
