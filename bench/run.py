"""Benchmark: full and PR runs against the libyaml parsing floor, on generated repos.

    python bench/run.py --sizes 10,100,1000 --shapes uniform,mixed

For each shape (bench/generate.py: `uniform`, every customer on five products in three
environments; `mixed`, the real-world shape) and size it generates (or reuses) a repository
pair under bench/results/repos/SHAPE, then measures in one session, alternating so machine
noise hits both alike:
  parse floor  -- read and parse every YAML file of both trees once with libyaml
                  (yaml.load with CSafeLoader), in this process;
  full run     -- `python -m checks` on both repos (a new process, as CI runs it), with the
                  number of workers the run chooses, then with 1 and with 2 workers
                  (GITOPS_CHECKS_WORKERS);
  PR run       -- `python -m checks --base HEAD~1` (one customer's values changed);
  values       -- `python -m checks values` for one unit;
  diff wide    -- `python -m checks diff --all` from the base to branch `wide`, where every product's
                  base values changed (every unit recomputed on both sides).
Then the PR run on the smallest and the largest size, alternating run by run, for their ratio.
With --growth N[,N...] (`make bench` passes 10000), the full run (workers chosen) and the floor once
more at the largest size of --sizes and at each N, one run each: CPU seconds and peak memory per
customer, against the largest size's, say whether the growth is linear.
Reports the median of --repeat runs, wall seconds with CPU seconds beside them (user +
system of the process and its forked workers, from getrusage), and the peak memory of the
full run: the proportional set size (PSS) of the process and its forked workers, summed,
sampled every 50 ms (their resident sizes summed beside it, which counts every page the
workers share copy-on-write once per worker). The package is byte-compiled first, as an
installed one is.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SHAPES, build

ROOT = Path(__file__).resolve().parent.parent


def parse_floor(roots: list[Path]) -> tuple[float, float]:
    """Find, read and parse every YAML file once (.git pruned, not walked: it is not YAML):
    wall and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".git", "templates")]
            for name in files:
                if name.endswith((".yaml", ".yml")):
                    with open(os.path.join(folder, name), "rb") as handle:
                        list(yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
    return time.perf_counter() - started, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Timing:
    wall: float
    cpu: float  # user + system seconds of the command and every process it waited for
    code: int
    peak_kib: int  # PSS of all processes, summed
    peak_rss_kib: int


def _tree_memory_kib(pid: int) -> tuple[int, int]:
    """Memory of a process and all its descendants (forked workers), from /proc: (PSS, RSS).
    PSS counts a page shared by n processes (copy-on-write after fork) as 1/n in each, so the
    sum is the memory the run really takes; RSS counts it in every process: an upper bound."""
    pss = rss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(c) for c in children.read().split())
        except (OSError, ValueError):
            continue
    return pss, rss


def timed(cmd: list[str], workers: int | None = None) -> Timing:
    """Wall and CPU seconds, exit code and peak memory (KiB) of one command, all its processes summed."""
    env = dict(os.environ)
    env.pop("GITOPS_CHECKS_WORKERS", None)
    if workers is not None:
        env["GITOPS_CHECKS_WORKERS"] = str(workers)
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: a full pipe would block the child
        cpu = _children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors, text=True, cwd=ROOT, env=env)
        peaks = [(0, 0)]

        def sample() -> None:  # in a thread, so the wall time below is not rounded up to a sampling step
            while proc.poll() is None:
                peaks.append(_tree_memory_kib(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu
        sampler.join()
        peak, peak_rss = max(p for p, _ in peaks), max(r for _, r in peaks)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {errors.read().strip()[-500:]}")
    return Timing(wall, cpu, proc.returncode, peak, peak_rss)


def _median(timings: list[Timing]) -> tuple[float, float]:
    return statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings)


def repo_pair(out: Path, shape: str, n: int) -> tuple[Path, Path]:
    repo_dir = out / shape / f"n{n}"
    configs, infra = repo_dir / "customer-configs", repo_dir / "platform-infrastructure"
    if not (configs / ".git").exists():
        build(repo_dir, n, shape=shape)
    return configs, infra


def count_files(root: Path) -> int:
    total = 0
    for _, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        total += len(files)
    return total


def bench_size(shape: str, n: int, repeat: int, out: Path) -> dict:
    configs, infra = repo_pair(out, shape, n)
    py = sys.executable
    base = [py, "-m", "checks", "--configs", str(configs), "--infra", str(infra)]
    customer = sorted(p.name for p in (configs / "customers").iterdir())[0]
    product = sorted(p.parent.name for p in (configs / "customers" / customer).glob("*/values.yaml"))[0]
    floors: list[tuple[float, float]] = []
    fulls, ones, twos, prs, values, diffs = [], [], [], [], [], []
    for _ in range(repeat):
        floors.append(parse_floor([configs, infra]))
        fulls.append(timed(base))
        ones.append(timed(base, workers=1))
        twos.append(timed(base, workers=2))
        prs.append(timed([*base, "--base", "HEAD~1", "--head", "HEAD"]))
        values.append(timed([py, "-m", "checks", "values", customer, product, "prod", "--configs", str(configs),
                             "--infra", str(infra), "--format", "json"]))
        diffs.append(timed([py, "-m", "checks", "diff", "--configs", str(configs), "--infra", str(infra),
                            "--base", "main~1", "--head", "wide", "--direct", "--all",
                            "--report", "json=/dev/null"]))
    return {"customers": n, "files": count_files(configs) + count_files(infra),
            "floor": (statistics.median(f[0] for f in floors), statistics.median(f[1] for f in floors)),
            "full": _median(fulls), "one": _median(ones), "two": _median(twos), "pr": _median(prs),
            "values": _median(values), "diff": _median(diffs),
            "pss_mib": max(t.peak_kib for t in fulls) / 1024, "rss_mib": max(t.peak_rss_kib for t in fulls) / 1024,
            "clean": {t.code for t in fulls + ones + twos} == {0}}


def pr_ratio(shape: str, small: int, large: int, repeat: int, out: Path) -> tuple[float, float]:
    """The same one-customer PR on two sizes, alternating run by run: medians (s)."""
    times: dict[int, list[float]] = {small: [], large: []}
    for _ in range(repeat):
        for n in (small, large):
            configs, infra = repo_pair(out, shape, n)
            cmd = [sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra),
                   "--base", "HEAD~1", "--head", "HEAD"]
            times[n].append(timed(cmd).wall)
    return statistics.median(times[small]), statistics.median(times[large])


def growth(shape: str, sizes: list[int], out: Path) -> list[dict]:
    """The full run (workers chosen) and the parse floor at each size, once: how CPU and memory grow."""
    rows = []
    for n in sizes:
        configs, infra = repo_pair(out, shape, n)
        floor = parse_floor([configs, infra])
        full = timed([sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra)])
        rows.append({"customers": n, "floor": floor, "full": (full.wall, full.cpu), "pss_mib": full.peak_kib / 1024,
                     "clean": full.code == 0})
    return rows


def print_growth(shape: str, rows: list[dict]) -> None:
    first = rows[0]
    print(f"\nshape: {shape} -- growth of the full run (workers chosen), one run each; per customer against "
          f"{first['customers']} customers (1.00 is linear)")
    print("| customers | parse floor | full run, wall (CPU) | full / floor, wall (CPU) | CPU per customer "
          "| peak PSS MiB | PSS per customer | clean |")
    print("|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in rows:
        scale = r["customers"] / first["customers"]
        print(f"| {r['customers']} | {_cell(r['floor'])} | {_cell(r['full'])} | "
              f"{r['full'][0] / r['floor'][0]:.1f}x ({r['full'][1] / r['floor'][1]:.1f}x) | "
              f"{r['full'][1] / first['full'][1] / scale:.2f} | {r['pss_mib']:.0f} | "
              f"{r['pss_mib'] / first['pss_mib'] / scale:.2f} | {'yes' if r['clean'] else 'NO'} |")


def _cell(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} ({pair[1]:.2f})"


def print_table(shape: str, rows: list[dict]) -> None:
    print(f"\nshape: {shape} -- seconds, wall (CPU of all processes)")
    print("| customers | files | parse floor | full run | full / floor, wall (CPU) | 1 worker | 2 workers | PR run "
          "| values | diff wide | diff / floor | peak memory, all processes: PSS (RSS) MiB | clean |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in rows:
        print(f"| {r['customers']} | {r['files']} | {_cell(r['floor'])} | {_cell(r['full'])} | "
              f"{r['full'][0] / r['floor'][0]:.1f}x ({r['full'][1] / r['floor'][1]:.1f}x) | "
              f"{_cell(r['one'])} | {_cell(r['two'])} | {_cell(r['pr'])} | "
              f"{_cell(r['values'])} | {_cell(r['diff'])} | {r['diff'][0] / r['floor'][0]:.1f}x | "
              f"{r['pss_mib']:.0f} ({r['rss_mib']:.0f}) | {'yes' if r['clean'] else 'NO'} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10,100,1000")
    p.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of: {', '.join(SHAPES)}")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "repos")
    p.add_argument("--growth", default="", metavar="N[,N...]",
                   help="also the full run once at the largest --sizes and at these sizes (e.g. 10000)")
    p.add_argument("--only-growth", action="store_true", help="the growth table only")
    args = p.parse_args()
    # as an installed package is: otherwise every run compiles the modules again (PYTHONDONTWRITEBYTECODE)
    compileall.compile_dir(ROOT / "checks", quiet=1)
    sizes = [int(n) for n in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    if unknown := set(shapes) - set(SHAPES):
        p.error(f"unknown shape(s): {', '.join(sorted(unknown))}")
    # the machine may be shared: its load says how far wall seconds are from the CPU seconds beside them
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    grown = [int(n) for n in args.growth.split(",") if n]
    if args.only_growth:
        sizes = [max(sizes)]
    tables = {} if args.only_growth else {
        shape: [bench_size(shape, n, args.repeat, args.out) for n in sizes] for shape in shapes}
    print(f"load average after the tables' runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for shape, rows in tables.items():
        print_table(shape, rows)
    if grown:
        for shape in shapes:
            print_growth(shape, growth(shape, [max(sizes), *grown], args.out))
        print(f"load average after the growth runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for shape in shapes:
            s_pr, l_pr = pr_ratio(shape, small, large, max(args.repeat, 5), args.out)
            print(f"\n{shape}: PR run, alternating: {small} customers {s_pr:.2f} s, {large} customers {l_pr:.2f} s "
                  f"({l_pr / s_pr:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
