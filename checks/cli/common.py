"""What every subcommand shares: the parser that never exits, the two repositories and their
settings, report specs and writing. Exit codes live here too."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from checks.core.settings import SETTINGS_FILE, ConfigError, Settings
from checks.core.text import printable
from checks.model.platform import CONFIGS, INFRA
from checks.repo.source import Source, SourceError, git_toplevel, open_source
from checks.runner.configuration import load_settings

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DIFF_FORMATS = ("text", "markdown", "html", "json")
# the finding reporters of checks.reports.reporters(), named here so --help needs no import (a test keeps them equal)
FINDING_FORMATS = ("console", "json", "junit", "sarif")


class UsageError(Exception):
    pass


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


def configs_root(given: Path | None) -> Path:
    if given is not None:
        if not given.is_dir():
            raise SourceError(f"--configs {given}: no such directory")
        return given
    top = git_toplevel(Path.cwd())
    return top if top is not None else Path.cwd()


def require_layout(configs: Path, source: Source, given: bool) -> None:
    """A folder with neither customers/ nor products/ is not customer-configs: checking it would pass (or
    fail) on whatever happens to be there."""
    if source.subdirs("customers") or source.subdirs("products"):
        return
    where = f"--configs {configs}" if given else f"the current folder's repository ({configs})"
    raise UsageError(f"{where} has no customers/ and no products/ folder: is it the customer-configs root? "
                     "(give --configs DIR)")


def open_sources(configs: Path, infra: Path | None, rev: str | None,
                 infra_rev: str | None = None) -> dict[str, Source]:
    sources: dict[str, Source] = {CONFIGS: open_source(configs, CONFIGS, rev)}
    if infra is not None:
        if not infra.is_dir():
            raise SourceError(f"--infra {infra}: no such directory")
        sources[INFRA] = open_source(infra, INFRA, infra_rev)
    elif infra_rev is not None:
        raise UsageError("a platform-infrastructure revision needs --infra DIR")
    return sources


def read_settings(config_file: Path | None, configs: Path, source: Source) -> Settings:
    text = None
    if config_file is None and source.entry(SETTINGS_FILE) is not None:
        raw = source.read(SETTINGS_FILE)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{configs / SETTINGS_FILE}: not UTF-8 text") from None
    return load_settings(config_file, configs, settings_text=text)


@contextlib.contextmanager
def repos(configs_arg: Path | None, infra: Path | None, config_file: Path | None,
          rev: str | None, infra_rev: str | None = None,
          settings_file: bool = True) -> Iterator[tuple[Path, dict[str, Source], Settings]]:
    """The configs root, both sources (closed afterwards) and the settings read from them
    (`settings_file=False`: defaults and environment only -- PR mode reads the file at the merge base)."""
    configs = configs_root(configs_arg)
    sources = open_sources(configs, infra, rev, infra_rev)
    try:
        settings = read_settings(config_file, configs, sources[CONFIGS]) if settings_file else load_settings(None,
                                                                                                             configs)
        yield configs, sources, settings
    finally:
        for s in sources.values():
            s.close()


def parse_reports(specs: list[str], known: list[str] | None = None,
                  default: str = "console") -> list[tuple[str, Path | None]]:
    from checks.reports.formats import reporters  # here: `list` and `explain` need no reporter

    names = known if known is not None else [*reporters(), "bitbucket", *(f"diff-{f}" for f in DIFF_FORMATS)]
    out = []
    for spec in specs or [default]:
        fmt, _, path = spec.partition("=")
        if fmt not in names:
            raise UsageError(f"--report {spec}: unknown format {fmt!r} (known: {', '.join(sorted(names))})")
        out.append((fmt, Path(path) if path else None))
    return out


def use_color() -> bool:
    return (sys.stdout.isatty() and not os.environ.get("NO_COLOR")) or bool(os.environ.get("FORCE_COLOR"))


class ReportError(Exception):
    """Some reports could not be written (each named); the others were (exit 2)."""


def emit(path: Path | None, render: Callable[[TextIO], None]) -> None:
    """A report to stdout, or to a file (its folder created), written whole or not at all:
    a temporary file in the same folder renamed over the target, so a reader never sees half a
    report. A target that is not a regular file (a device, a pipe) is written in place."""
    if path is None:
        render(sys.stdout)
        return
    buf = io.StringIO()
    render(buf)
    data = buf.getvalue().encode("utf-8", "backslashreplace")  # never fail on a stray surrogate
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            with open(path, "wb") as handle:
                handle.write(data)
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ReportError(f"cannot write report {printable(str(path))}: {exc.strerror or type(exc).__name__}") \
            from None


def emit_all(jobs: Sequence[tuple[Path | None, Callable[[TextIO], None]]]) -> None:
    """Every report, files first (a reader that closes stdout early must not cost the artifacts);
    a report that cannot be written is named, and the others are still written."""
    failed = []
    for path, render in sorted(jobs, key=lambda job: job[0] is None):
        try:
            emit(path, render)
        except ReportError as exc:
            failed.append(str(exc))
    if failed:
        raise ReportError("; ".join(failed))


def add_junit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit-granularity", choices=["coarse", "fine"], default="coarse",
                   help="JUnit test cases: coarse (default) one per check and customer plus one per file with "
                        "findings outside the customers' folders; fine one per check and unit or file examined")


def write_reports(result, reports: list[tuple[str, Path | None]], settings: Settings,
                  shard: tuple[int, int] | None = None, junit_granularity: str = "coarse") -> None:
    from checks.reports.base import ReportContext
    from checks.reports.formats import reporters

    known = reporters()
    to_stdout = any(path is None for _, path in reports)
    if not to_stdout:
        reports = [*reports, ("console", None)]
    if not reports:
        return
    color = use_color()
    jobs = []
    for fmt, path in reports:
        rctx = ReportContext(result, color if path is None and fmt == "console" else False, str(settings.fail_on),
                             shard, junit_granularity)
        jobs.append((path, functools.partial(known[fmt], rctx)))
    emit_all(jobs)
