"""Which working trees a full run's command line names, and starting their listings early
(repo/listing_prefetch.py), before the command's imports."""

from __future__ import annotations

import os
from pathlib import Path

from checks.repo.source import WorkingTreeSource, git_toplevel

# the trees a run's options name (after `--`: nothing); a run given any of the others reads a
# revision from git, or walks only some customers (PR mode, pre-commit), so its listing would differ
_TREE_OPTIONS = ("--configs", "--infra")
_NOT_A_FULL_RUN = ("--base", "--head", "--files", "--infra-base", "--infra-head", "--help", "-h")
_PREFIXES = ("--config",)  # run options that are prefixes of those above, not abbreviations of them


def full_run_roots(args: list[str]) -> list[Path] | None:
    """The folders a full run lists, resolved, from its command line as argparse would read it
    (None: not a full run, or options written another way, e.g. abbreviated: nothing is prefetched)."""
    options = args[:args.index("--")] if "--" in args else args
    given: dict[str, str] = {}
    known = (*_TREE_OPTIONS, *_NOT_A_FULL_RUN, *_PREFIXES)
    i = 0
    while i < len(options):
        name, eq, value = options[i].partition("=")
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
    # without --configs: the git checkout around the current folder, as service/repositories.py decides
    configs = Path(given["--configs"]) if "--configs" in given else git_toplevel(Path.cwd()) or Path.cwd()
    roots = [configs, Path(given["--infra"]) if "--infra" in given else None]
    return [r.resolve() for r in roots if r is not None and r.is_dir()]


def prefetch_listings(args: list[str]) -> None:
    """A full run lists its trees in child processes while this one imports the package; on one
    CPU they would only take turns."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return
    try:
        roots = full_run_roots(args) or []
    except (OSError, ValueError):  # an unusable folder: the run itself says so
        return
    for root in roots:
        WorkingTreeSource.start_listing(root)
