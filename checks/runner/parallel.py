"""Run a large run's checks in forked worker processes, one part of the customers each.

Every worker runs every check over its own part of the customers (and of the other files),
the parts together being exactly the run's scope (`Scope.shard`, the same partition as
`--shard K/N`, composed with it when both are given). A customer's files are read by one
worker only, so nothing is parsed twice. Checks that look at the whole platform at once
(ApplicationSet generation: uniqueness across every Application) run once, in the first
worker, over the whole scope. Workers inherit what the parent already read (fork,
copy-on-write) and send back plain findings. When a worker dies (a check that exits or
crashes the interpreter), its part is run again one check per process: the check that kills
its process becomes an `internal/crash` error and every other finding is still reported.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

from checks.core import progress
from checks.core.findings import Finding, Severity
from checks.runner.registry import Check

# families that need every customer at once: run whole, in the first worker
WHOLE_FAMILIES = ("appset",)
T = TypeVar("T")
MIN_FILES = 3000  # YAML files in scope (about 2,000 units): below, forking costs more than it saves
MAX_WORKERS = 8


def worth_it(yaml_files: int) -> bool:
    """GITOPS_CHECKS_WORKERS=1 never forks, =N forks N; unset: large runs on several cores."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    setting = os.environ.get("GITOPS_CHECKS_WORKERS", "")
    if setting.isdigit():
        return int(setting) > 1
    return yaml_files >= MIN_FILES and (os.cpu_count() or 1) > 1


def worker_count() -> int:
    setting = os.environ.get("GITOPS_CHECKS_WORKERS", "")
    wanted = int(setting) if setting.isdigit() else (os.cpu_count() or 1)
    return max(1, min(wanted, MAX_WORKERS))


# Measured on the benchmark repos (1,000 customers, 31,000 Applications): with its share of
# the customers lowered by this much, the worker generating Applications finishes with the others.
WHOLE_SHARE = 0.2


def shares(workers: int, whole_work: bool) -> list[float]:
    """Each worker's share of the customers; the first one's is smaller when it also runs the whole checks."""
    if not whole_work or workers == 1:
        return [1 / workers] * workers
    first = max(0.0, 1 / workers - WHOLE_SHARE)
    return [first] + [(1 - first) / (workers - 1)] * (workers - 1)


def split_whole(checks: list[Check]) -> tuple[list[Check], list[Check]]:
    """(checks run per part, checks run once over the whole scope)."""
    whole = [c for c in checks if c.id.split("/", 1)[0] in WHOLE_FAMILIES]
    return [c for c in checks if c not in whole], whole


def _child(task: Callable[[], object], conn, index: int) -> None:
    progress.set_worker(index)
    try:
        conn.send_bytes(pickle.dumps(task()))
    finally:
        conn.close()


def run_tasks(tasks: list[Callable[[], T]], before_fork: Callable[[], None]) -> list[T | None]:
    """Each task in its own forked process, all at once; per task its (picklable) result, or None
    if its process died."""
    before_fork()
    gc.freeze()  # what the parent read stays shared: the collector never touches (copies) those pages
    ctx = multiprocessing.get_context("fork")
    workers = []
    for index, task in enumerate(tasks, start=1):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(task, child_end, index), daemon=True)
        proc.start()
        child_end.close()
        workers.append((proc, parent_end))
    results: list[T | None] = []
    for proc, conn in workers:
        try:
            results.append(pickle.loads(conn.recv_bytes()))  # noqa: S301 - our own child process's result
        except (EOFError, OSError, pickle.UnpicklingError):
            results.append(None)
        finally:
            conn.close()
            proc.join(timeout=30)
    return results


def died(check_id: str) -> Finding:
    return Finding("internal/crash", Severity.ERROR,
                   f"check {check_id} killed the worker process running it; its results are missing",
                   discriminator="worker:" + check_id)
