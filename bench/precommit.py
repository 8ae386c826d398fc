"""What a developer waits for: the pre-commit hook on a one-file commit (the hook's entry plus that
file, as pre-commit runs it) and a one-customer pull request (`--base HEAD~1 --head HEAD`), on
N-customer repository pairs (bench/generate.py). Sizes alternate run by run, so a change in the
machine's load hits every size alike. Targets: the hook under 1 s at 1,000 customers; the PR
under 0.8 s at 1,000 customers and at most 1.5x the same PR at 10.

    python bench/precommit.py --sizes 10,1000 [--repos DIR] [--runs 5] [--modes hook,pr] [--before DIR]

Prints, per mode and size, the median wall seconds and the median CPU seconds (user + system of
the command, from getrusage), with the load average before and after. `--before DIR` also times
the package in DIR (a checkout or `git archive` of an older commit: DIR/checks), alternating
with this checkout run by run, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, code: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one command (the package from `code`), and the last line it printed."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=_environment(code))
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    lines = proc.stdout.strip().splitlines()
    return wall, _children_cpu() - cpu, lines[-1] if lines else ""


def _environment(code: Path) -> dict[str, str]:
    # as a developer's shell runs it: no forced worker count, no git variables of a calling hook
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITOPS_CHECKS_", "PYTHONPATH"))}
    return {**env, "PYTHONPATH": str(code)}


def configs_repo(repos: Path, customers: int) -> Path:
    configs = repos / "uniform" / f"n{customers}" / "customer-configs"
    if not configs.is_dir():
        from generate import build

        configs, _ = build(configs.parent, customers)
    return configs


def hook_command(configs: Path, hook_id: str) -> tuple[list[str], Path]:
    """The hook's command line on a one-file commit, and the file it commits."""
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == hook_id)
    entry = shlex.split(hook["entry"])
    customers = sorted(p.name for p in (configs / "customers").iterdir())
    customer = customers[len(customers) // 3]
    values = sorted((configs / "customers" / customer).glob("*/values.yaml"))[0]
    return [sys.executable, "-m", "checks", *entry[1:], str(values.relative_to(configs))], values


def pr_command(configs: Path) -> list[str]:
    """The one-customer PR of bench/generate.py (HEAD changes one customer's values)."""
    return [sys.executable, "-m", "checks", "--configs", str(configs), "--infra",
            str(configs.parent / "platform-infrastructure"), "--no-progress", "--base", "HEAD~1", "--head", "HEAD"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10,1000", help="customer counts, comma-separated")
    p.add_argument("--customers", type=int, help="one size only (same as --sizes N)")
    p.add_argument("--repos", type=Path, default=ROOT / "bench/results/repos",
                   help="where bench/generate.py put (or will put) the repositories")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--hook", default="gitops-checks")
    p.add_argument("--modes", default="hook,pr", help="hook (one-file commit), pr (one-customer PR)")
    p.add_argument("--before", type=Path, help="also time the package in this folder (DIR/checks), alternating")
    args = p.parse_args()
    if args.before is not None and not (args.before / "checks" / "__main__.py").is_file():
        p.error(f"--before {args.before}: no checks/ package there")
    codes = {"this checkout": ROOT, **({f"before ({args.before})": args.before} if args.before else {})}
    sizes = [args.customers] if args.customers else [int(s) for s in args.sizes.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    repos = {n: configs_repo(args.repos, n) for n in sizes}
    hooks = {n: hook_command(repos[n], args.hook) for n in sizes}
    samples: dict[tuple[str, str, int], list[tuple[float, float]]] = {
        (c, m, n): [] for c in codes for m in modes for n in sizes}
    summaries: dict[tuple[str, str, int], str] = {}
    originals = {n: values.read_text() for n, (_, values) in hooks.items()}
    load_before = os.getloadavg()
    try:
        for n, (_, values) in hooks.items():
            values.write_text(originals[n] + "replicaCount: 4\n")  # the commit: one values file of one customer
        for _ in range(args.runs):
            for n in sizes:
                for mode in modes:
                    for name, code in codes.items():
                        command = hooks[n][0] if mode == "hook" else pr_command(repos[n])
                        wall, cpu, summaries[(name, mode, n)] = timed(command, repos[n], code)
                        samples[(name, mode, n)].append((wall, cpu))
    finally:
        for n, (_, values) in hooks.items():
            values.write_text(originals[n])
    load_after = os.getloadavg()
    names = {"hook": f"{args.hook} hook, one-file commit", "pr": "one-customer PR (--base HEAD~1 --head HEAD)"}
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; {os.cpu_count()} CPUs")
    for name in codes:
        print(f"{name}:")
        for mode in modes:
            for n in sizes:
                walls = [w for w, _ in samples[(name, mode, n)]]
                cpus = [c for _, c in samples[(name, mode, n)]]
                print(f"  {names[mode]}, {n} customers: median {statistics.median(walls):.2f} s wall "
                      f"(min {min(walls):.2f}, max {max(walls):.2f}), {statistics.median(cpus):.2f} s CPU, "
                      f"{args.runs} runs\n    {summaries[(name, mode, n)]}")
            if len(sizes) > 1:
                small, large = min(sizes), max(sizes)
                ratio = (statistics.median(w for w, _ in samples[(name, mode, large)])
                         / statistics.median(w for w, _ in samples[(name, mode, small)]))
                print(f"    {large} / {small} customers: {ratio:.2f}x wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
