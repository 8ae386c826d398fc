"""List a full run's working trees in a forked process while this one imports the package.

A full run's first half second is serial, before its workers fork: importing the package
(~0.3 s) and listing the trees (~0.2 s at 1,000 customers, mostly the kernel's directory reads
and stats). The CLI (cli/prefetch.py) starts each listing in a child process first thing, so it
runs on a second CPU during the imports; `WorkingTreeSource.files()` takes the child's answer.
When anything goes wrong (the child died, its answer is incomplete) the tree is walked in this
process as before, which also reports a walk's error where it always did.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable

_pending: dict[str, tuple[int, int, int]] = {}  # root -> (child pid, read end of its pipe, owner pid)


def start(root: str, walk: Callable[[str], object]) -> None:
    """Fork a child that runs `walk(root)` (root resolved) and writes its picklable answer to a pipe."""
    if not hasattr(os, "fork"):
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: walk, answer, leave without running this process's exit handlers
        status = 1
        try:
            os.close(read_end)
            payload = pickle.dumps(walk(root), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        except BaseException:  # noqa: S110 - the parent walks the tree itself and meets the error there
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    abandon(root)  # an older listing of it nobody took: the tree may have changed since
    _pending[root] = (pid, read_end, os.getpid())


def take(root: str) -> object | None:
    """The child's answer for `root`, or None (none started for it, started by another process, or
    it failed: the caller walks the tree itself)."""
    pending = _pending.get(root)
    if pending is None or pending[2] != os.getpid():
        return None
    del _pending[root]
    pid, read_end, _ = pending
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # reaped by someone else: the answer is complete or fails to load
        status = 0
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)  # noqa: S301 - our own child's answer
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None


def abandon(only: str | None = None) -> None:
    """The listings nobody took (the run stopped early; of `only`, if given): stop their children
    and reap them."""
    for root, (pid, read_end, owner) in list(_pending.items()):
        if only is not None and root != only:
            continue
        del _pending[root]
        if owner != os.getpid():
            continue
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
