"""Run a large run's checks in forked worker processes, one part of the customers each.

Every worker runs every check over its own part of the customers (and of the other files),
the parts together being exactly the run's scope (`Scope.shard`, the same partition as
`--shard K/N`, composed with it when both are given). A customer's files are read by one
worker only, so nothing is parsed twice. Each worker generates the Applications of its own
customers (engines/app_generation.py) and checks them; what needs every Application (names
unique across all) is concluded by the parent from what each worker sends. Workers inherit
what the parent already read (fork, copy-on-write) and send back plain findings. When a worker
dies (a check that exits or crashes the interpreter), its part is run again one check per
process: the check that kills its process becomes an `internal/crash` error and every other finding is still reported.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from checks.core import progress
from checks.core.findings import Finding, Severity
from checks.core.settings import workers_setting
from checks.runner.registry import Check

T = TypeVar("T")
# YAML files in scope a worker must have to pay for itself: forking, and what every worker does
# again (products/ and the infra repo parsed, schemas and policies compiled, detectors loaded)
# cost a second worker 0.1-0.15 s of CPU. Since each worker generates and checks its own
# customers' Applications, the parts take equal time: at 1,000 customers (14,000-20,000 files)
# two workers take no more CPU than one (7.8 / 10.2 s against 8.1 / 10.9 s, mixed / uniform)
# and the longest worker 3.5 / 5.1 s. At 100 customers (1,400 / 2,100 files) the second costs
# 12% more CPU: on two idle cores they finish first (longest worker 0.47 / 0.61 s against one
# process's 1.15 / 1.5 s), on a loaded machine they were 10% slower: not forked below 5,000 files.
FILES_PER_WORKER = 2500
MAX_WORKERS = 8
# A worker generates and checks its customers' Applications this many customers at a time, letting
# go of each share's Applications before the next (1,000 customers, uniform shape: 31,000
# Applications, their manifests and deployed units ~70 MB, held at once by a worker before)
CUSTOMERS_PER_SHARE = 150
CGROUP_ROOT = Path("/sys/fs/cgroup")


def worker_count(yaml_files: int) -> int:
    """How many processes this run uses: GITOPS_CHECKS_WORKERS=N says N (1: never fork); else
    one per FILES_PER_WORKER files in scope, at most one per CPU this process may use."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    setting = workers_setting()
    if setting is not None:
        return max(1, min(setting, MAX_WORKERS))
    return max(1, min(yaml_files // FILES_PER_WORKER, available_cpus(), MAX_WORKERS))


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask (taskset, cpusets), lowered to a cgroup's
    CPU quota (a container or CI agent limited to 1.5 CPUs gets 1 worker: a second one would
    only be throttled)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, int(quota)))
    return max(1, cpus)


def cgroup_cpu_quota(root: Path = CGROUP_ROOT, membership: Path = Path("/proc/self/cgroup")) -> float | None:
    """The tightest CPU quota, in CPUs, of this process's cgroup and its ancestors: cgroup v2
    `cpu.max` ("max 100000" or "150000 100000"), or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
    None when there is none, or it cannot be read."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if not path.startswith("/"):
            continue
        if controllers == "":  # v2, mounted at the root (or at root/unified on hybrid systems)
            for mount in (root, root / "unified"):
                if (mount / "cgroup.controllers").exists():
                    quotas += _ancestors_quota(mount, path, _v2_quota)
                    break
        elif "cpu" in controllers.split(","):
            for name in (controllers, "cpu", "cpu,cpuacct"):
                if (root / name).is_dir():
                    quotas += _ancestors_quota(root / name, path, _v1_quota)
                    break
    return min(quotas) if quotas else None


def _ancestors_quota(mount: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quotas set on the cgroup at `path` under `mount` and on each of its parents. In a
    container the path often names the host's hierarchy: folders that do not exist are skipped."""
    found = []
    parts = [p for p in path.split("/") if p]
    for depth in range(len(parts), -1, -1):
        folder = mount.joinpath(*parts[:depth])
        if folder.is_dir() and (quota := read(folder)) is not None:
            found.append(quota)
    return found


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, _, period = (folder / "cpu.max").read_text().strip().partition(" ")
        return int(quota) / int(period or 100000) if quota != "max" else None
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def split_whole(checks: list[Check]) -> tuple[list[Check], list[Check]]:
    """(checks run per part, checks of the generated Applications: run first, over the part's)."""
    whole = [c for c in checks if c.whole_platform]
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
