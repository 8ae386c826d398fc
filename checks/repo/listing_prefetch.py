"""List a full run's working trees in a forked process while this one imports the package.

A full run's first half second is serial, before its workers fork: importing the package
(~0.3 s) and listing the trees (~0.2 s at 1,000 customers, mostly the kernel's directory reads
and stats). The CLI starts each listing in a child process first thing, so it runs on a second
CPU during the imports; `WorkingTreeSource.files()` takes the child's result. When anything goes
wrong (the child died, its answer is incomplete) the tree is walked in this process as before,
which also reports a walk's error where it always did.
"""

from __future__ import annotations

import os
import pickle
import signal
from pathlib import Path

# the trees a run's options name (after `--`: nothing); a run given any of the others reads a
# revision from git, or walks only some customers (PR mode, pre-commit), so its listing would differ
_TREE_OPTIONS = ("--configs", "--infra")
_NOT_A_FULL_RUN = ("--base", "--head", "--files", "--infra-base", "--infra-head", "--help", "-h")
_PREFIXES = ("--config",)  # run options that are prefixes of those above, not abbreviations of them

_pending: dict[str, tuple[int, int, int]] = {}  # root -> (child pid, read end of its pipe, owner pid)


def full_run_roots(args: list[str]) -> list[str] | None:
    """The folders a full run lists, from its command line as argparse would read it (None: not a
    full run, or options written another way, e.g. abbreviated; then nothing is prefetched)."""
    options = args[:args.index("--")] if "--" in args else args
    given: dict[str, str] = {}
    i = 0
    while i < len(options):
        name, eq, value = options[i].partition("=")
        known = (*_TREE_OPTIONS, *_NOT_A_FULL_RUN, *_PREFIXES)
        if name in _NOT_A_FULL_RUN or (name.startswith("--") and name not in known
                                       and any(o.startswith(name) for o in known)):
            return None  # (or an abbreviation, e.g. `--inf`: argparse decides what it means)
        if name in _TREE_OPTIONS:
            if not eq:
                if i + 1 >= len(options):
                    return None
                i += 1
                value = options[i]
            given[name] = value
        i += 1
    if "--configs" in given:
        configs: Path | None = Path(given["--configs"])
    else:
        from checks.repo.source import git_toplevel  # as service/repositories.configs_root decides

        configs = git_toplevel(Path.cwd()) or Path.cwd()
    roots = [configs, Path(given["--infra"]) if "--infra" in given else None]
    return [str(r.resolve()) for r in roots if r is not None and r.is_dir()]


def start(root: str) -> None:
    """Fork a child that walks `root` (resolved) and writes what it found to a pipe."""
    if not hasattr(os, "fork"):
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: walk, answer, leave without running this process's exit handlers
        status = 1
        try:
            os.close(read_end)
            from checks.repo.source import WorkingTreeSource

            entries, odd = WorkingTreeSource(Path(root), "listing")._walk(None)
            payload = pickle.dumps(([(e.path, e.size, e.symlink_target) for e in entries.values()],
                                    [(o.kind, o.path) for o in odd]), protocol=pickle.HIGHEST_PROTOCOL)
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


def take(root: str) -> tuple[dict, list] | None:
    """The child's listing of `root`: (path -> FileEntry, odd entries), or None (none started for
    it, started by another process, or it failed: the caller walks the tree itself)."""
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
        files, odd = pickle.loads(data)  # noqa: S301 - our own child's answer
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    from checks.repo.source import FileEntry, OddEntry

    return {path: FileEntry(path, size, target) for path, size, target in files}, [OddEntry(k, p) for k, p in odd]


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
