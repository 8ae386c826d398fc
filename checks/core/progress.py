"""A progress bar on a terminal for runs that take more than a second; nothing otherwise.

Checks tick counters (files read, units evaluated, checks finished) in shared memory, so
forked workers (each on its part of the customers) report too; a thread in the parent
draws them with rich on stderr once the run has lasted `delay` seconds. When stderr is
not a terminal (CI logs) nothing is drawn: the summary line is all a log gets.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from types import TracebackType

from checks.core.settings import progress_delay

FILES, UNITS, CHECKS = range(3)
_SLOTS = 3
_MAX_WORKERS = 8

_counters = None  # shared array: _SLOTS counters per process (parent = 0, workers 1..)
_worker = 0


def tick(slot: int, n: int = 1) -> None:
    """Count progress; costs one branch when no bar is shown."""
    if _counters is not None:
        _counters[_worker * _SLOTS + slot] += n  # one writer per slot: no lock needed


def set_worker(index: int) -> None:
    """In a forked worker: count into its own slots."""
    global _worker
    _worker = min(index, _MAX_WORKERS - 1)


def _read() -> tuple[int, int, int]:
    if _counters is None:
        return 0, 0, 0
    rows = [[_counters[w * _SLOTS + s] for s in range(_SLOTS)] for w in range(_MAX_WORKERS)]
    # workers split the customers, so their files and units add up; each runs every check,
    # so the checks done are those of the furthest worker
    return sum(r[FILES] for r in rows), sum(r[UNITS] for r in rows), max(r[CHECKS] for r in rows)


def wanted(disabled: bool = False) -> bool:
    return not disabled and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class ProgressBar:
    """`with ProgressBar(files, units, checks):` around a run; draws only on a terminal."""

    def __init__(self, files: int, units: int, checks: int, enabled: bool, delay: float | None = None) -> None:
        self.totals = (files, units, checks)
        self.enabled = enabled
        self.delay = progress_delay() if delay is None else delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressBar:
        global _counters
        if self.enabled:
            _counters = multiprocessing.RawArray("q", _SLOTS * _MAX_WORKERS)
            self._thread = threading.Thread(target=self._draw, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        global _counters
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        _counters = None

    def _draw(self) -> None:
        if self._stop.wait(self.delay):
            return  # finished within the delay: no bar at all
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        files, units, checks = self.totals
        with Progress(TextColumn("{task.description:>7}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True, refresh_per_second=10) as bar:
            tasks = (bar.add_task("files", total=max(files, 1)), bar.add_task("units", total=max(units, 1)),
                     bar.add_task("checks", total=max(checks, 1)))
            while True:
                done = _read()
                for task, count, total in zip(tasks, done, (files, units, checks), strict=True):
                    bar.update(task, completed=min(count, max(total, 1)))
                if self._stop.wait(0.1):
                    return
