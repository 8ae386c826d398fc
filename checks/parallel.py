"""Run groups of checks in forked worker processes when a run is large enough to pay for it.

Checks that share expensive state stay in one group (Terraform parses, ApplicationSet
generation, effective values). Workers inherit what the parent already parsed (fork,
copy-on-write) and send back plain findings; a worker that dies becomes an
`internal/crash` error and the other group's findings are still reported.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable

from checks import progress
from checks.findings import Finding, Severity
from checks.registry import Check

# families run together in the second worker; everything else (and third-party checks) in the first
SECOND_GROUP = ("terraform", "secrets", "appset")
MIN_UNITS = 2000  # below this a run takes a few seconds and forking costs more than it saves


def worth_it(units: int) -> bool:
    """GITOPS_CHECKS_WORKERS=1 never forks, =2 always does; unset: large runs on several cores."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    setting = os.environ.get("GITOPS_CHECKS_WORKERS", "")
    if setting in ("1", "2"):
        return setting == "2"
    return units >= MIN_UNITS and (os.cpu_count() or 1) > 1


def split(checks: list[Check]) -> list[list[Check]]:
    second = [c for c in checks if c.id.split("/", 1)[0] in SECOND_GROUP]
    first = [c for c in checks if c not in second]
    return [g for g in (first, second) if g]


def _child(run: Callable[[list[Check]], list[Finding]], group: list[Check], conn, index: int) -> None:
    progress.set_worker(index)
    try:
        conn.send_bytes(pickle.dumps(run(group)))
    finally:
        conn.close()


def run_groups(run: Callable[[list[Check]], list[Finding]], groups: list[list[Check]],
               before_fork: Callable[[], None]) -> list[Finding]:
    """`run(group)` in one forked process per group; results in group order."""
    before_fork()
    ctx = multiprocessing.get_context("fork")
    workers = []
    for index, group in enumerate(groups, start=1):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(run, group, child_end, index), daemon=True)
        proc.start()
        child_end.close()
        workers.append((group, proc, parent_end))
    findings: list[Finding] = []
    for group, proc, conn in workers:
        try:
            data = conn.recv_bytes()
            findings.extend(pickle.loads(data))  # noqa: S301 - our own child process's findings
        except (EOFError, OSError, pickle.UnpicklingError):
            ids = ", ".join(c.id for c in group)
            findings.append(Finding("internal/crash", Severity.ERROR,
                                    f"the worker process running {ids} died; their results are missing",
                                    discriminator="worker:" + ids))
        finally:
            conn.close()
            proc.join(timeout=30)
    return findings
