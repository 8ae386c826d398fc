"""Where reports go: stdout or a file written whole or not at all, each report on its own (one that
cannot be written is named, and the others are still written)."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from checks.core.text import printable

if TYPE_CHECKING:  # types only: `list` and `explain` import this module and need neither
    from checks.core.settings import Settings
    from checks.diffing.units import DiffResult
    from checks.runner.run import RunResult

ReportSpec = tuple[str, Path | None]  # a format's name, and its file (None: stdout)


class ReportError(Exception):
    """Some reports could not be written (each named); the others were (exit 2)."""


def use_color() -> bool:
    return (sys.stdout.isatty() and not os.environ.get("NO_COLOR")) or bool(os.environ.get("FORCE_COLOR"))


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


def write_reports(result: RunResult, reports: Sequence[ReportSpec], settings: Settings,
                  shard: tuple[int, int] | None = None, junit_granularity: str = "coarse") -> None:
    """The run reports asked for, and the console on stdout when no report goes there."""
    from checks.reports.base import ReportContext
    from checks.reports.formats import reporters

    known = reporters()
    if not any(path is None for _, path in reports):
        reports = [*reports, ("console", None)]
    color = use_color()
    jobs = []
    for fmt, path in reports:
        report = ReportContext(result, color if path is None and fmt == "console" else False, str(settings.fail_on),
                               shard, junit_granularity)
        jobs.append((path, functools.partial(known[fmt], report)))
    emit_all(jobs)


def write_diff_reports(diff: DiffResult, reports: Sequence[ReportSpec]) -> None:
    """The diff reports asked for (text on stdout in colour on a terminal)."""
    from checks.reports.base import DiffReportContext
    from checks.reports.formats import diff_reporters

    known = diff_reporters()
    jobs = [(path, functools.partial(known[fmt], DiffReportContext(diff, use_color() if path is None else False)))
            for fmt, path in reports]
    emit_all(jobs)
