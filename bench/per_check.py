"""Per-check timing: how long each check takes, for two source trees of gitops-checks side by side.

    python bench/per_check.py --configs C --infra I --tree before=/path/old --tree after=. --repeat 3

Each run is `python -m checks` (full run, or with --pr a PR run `--base HEAD~1`) in a new
process whose `checks` package comes from the tree named (PYTHONPATH first: an older commit
exported with `git archive REV | tar -x -C DIR` runs with this environment's libraries).
The process is given one worker (GITOPS_CHECKS_WORKERS=1), so every check runs in it, and
`checks.runner.run._run_group` is wrapped to time each check's `run` with a wall and a CPU
clock; what is outside the checks (reading the trees, building the model, reports) is the
`(outside the checks)` row. Each tree is byte-compiled and run once first, not counted (cold
caches). The trees then run alternately, run by run, so the load of a shared machine falls on
both alike; the table shows the medians, the after/before ratio, and the
load average before and after the measurement.

Caveat of the method: work a check triggers first and others share (effective values, parsed
schemas) is counted in the check that triggers it, in both trees alike as long as the order of
the checks is the same.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Runs in the measured process: time each check, then the CLI as usual.
DRIVER = r"""
import json, os, sys, time
from checks.runner import run as run_module

times = {}
original = run_module._run_group

def timed(ctx, checks):
    found = []
    for check in checks:
        wall, cpu = time.perf_counter(), time.process_time()
        found.extend(original(ctx, [check]))
        spent = times.setdefault(check.id, [0.0, 0.0])
        spent[0] += time.perf_counter() - wall
        spent[1] += time.process_time() - cpu
    return found

run_module._run_group = timed
from checks.cli.main import main
wall, cpu = time.perf_counter(), time.process_time()
code = main(sys.argv[1:])
times["(total)"] = [time.perf_counter() - wall, time.process_time() - cpu]
with open(os.environ["PER_CHECK_OUT"], "w") as handle:
    json.dump({"exit": code, "times": times}, handle)
"""


def measure(tree: Path, argv: list[str]) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="per-check-") as tmp:
        out = Path(tmp, "times.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPS_CHECKS_")}  # no cache, no overrides
        env.update(PYTHONPATH=str(tree), GITOPS_CHECKS_WORKERS="1", PER_CHECK_OUT=str(out))
        proc = subprocess.run([sys.executable, "-c", DRIVER, *argv, "--report", f"json={tmp}/r.json"],
                              capture_output=True, text=True, env=env, cwd=tmp, check=False)
        if not out.exists():
            raise SystemExit(f"{tree}: the run left no timings (exit {proc.returncode}): {proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
    times = data["times"]
    total = times.pop("(total)")
    times["(outside the checks)"] = [total[0] - sum(t[0] for t in times.values()),
                                     total[1] - sum(t[1] for t in times.values())]
    times["(total)"] = total
    return times


def table(labels: list[str], runs: dict[str, list[dict[str, list[float]]]]) -> str:
    names = sorted({n for label in labels for r in runs[label] for n in r}, key=lambda n: (n.startswith("("), n))
    first, last = labels[0], labels[-1]
    head = "| check | " + " | ".join(f"{label} wall (cpu) s" for label in labels) + f" | {last}/{first} wall | cpu |"
    lines = [head, "|---|" + "---:|" * (len(labels) + 2)]
    for name in names:
        cells, medians = [], {}
        for label in labels:
            samples = [r[name] for r in runs[label] if name in r]
            if not samples:
                cells.append("--")
                continue
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            medians[label] = (wall, cpu)
            cells.append(f"{wall:.3f} ({cpu:.3f})")
        ratio = cpu_ratio = "--"
        if first in medians and last in medians and medians[first][0] > 0.0005:
            ratio = f"{medians[last][0] / medians[first][0]:.2f}"
            cpu_ratio = f"{medians[last][1] / medians[first][1]:.2f}" if medians[first][1] > 0.0005 else "--"
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {ratio} | {cpu_ratio} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", type=Path, required=True)
    p.add_argument("--infra", type=Path)
    p.add_argument("--tree", action="append", required=True, metavar="LABEL=DIR",
                   help="a source tree of gitops-checks (the folder holding checks/); give two to compare")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1, help="runs of each tree first, not counted")
    p.add_argument("--pr", action="store_true", help="a PR run (--base HEAD~1) instead of a full run")
    p.add_argument("--json", type=Path, help="also write every sample here")
    args = p.parse_args()
    trees = dict(item.split("=", 1) for item in args.tree)
    argv = ["--configs", str(args.configs.resolve())]
    if args.infra:
        argv += ["--infra", str(args.infra.resolve())]
    if args.pr:
        argv += ["--base", "HEAD~1"]
    labels = list(trees)
    runs: dict[str, list[dict[str, list[float]]]] = {label: [] for label in labels}
    for label in labels:  # byte-compiled, as an installed package is, and one run each not counted (cold caches)
        compileall.compile_dir(str(Path(trees[label], "checks")), quiet=1)
        for _ in range(args.warmup):
            measure(Path(trees[label]).resolve(), argv)
    load_before = os.getloadavg()
    for index in range(args.repeat):
        for label in labels if index % 2 == 0 else labels[::-1]:  # alternate who goes first
            runs[label].append(measure(Path(trees[label]).resolve(), argv))
            print(f"run {index + 1}/{args.repeat} {label}: {runs[label][-1]['(total)'][0]:.2f} s", file=sys.stderr)
    load_after = os.getloadavg()
    print(table(labels, runs))
    print(f"\n{'PR' if args.pr else 'full'} run, 1 worker, medians of {args.repeat}; load average (1, 5, 15 min) "
          f"before {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, "
          f"after {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"trees": trees, "argv": argv, "runs": runs,
                                         "load": [load_before, load_after]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
