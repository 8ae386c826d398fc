"""Benchmark: full and PR runs against the libyaml parsing floor, on generated repos.

    python bench/run.py --sizes 10,100,1000

For each size it generates (or reuses) a repository pair under bench/results/repos,
then measures in one session, alternating so machine noise hits both alike:
  parse floor  -- read and parse every YAML file of both trees once with libyaml
                  (yaml.load with CSafeLoader), in this process;
  full run     -- `python -m checks` on both repos (a new process, as CI runs it);
  PR run       -- `python -m checks --base HEAD~1` (one customer's values changed);
  values       -- `python -m checks values` for one unit;
  diff wide    -- `python -m checks diff --all` from the base to branch `wide`, where every product's
                  base values changed (every unit recomputed on both sides).
Then the PR run on the smallest and the largest size, alternating run by run, for their ratio.
Reports the median of --repeat runs and the peak memory of the full run (the resident
memory of the process and its forked workers, summed, sampled every 50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import build

ROOT = Path(__file__).resolve().parent.parent


def parse_floor(roots: list[Path]) -> float:
    """Find, read and parse every YAML file once (.git pruned, not walked: it is not YAML)."""
    started = time.perf_counter()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".git", "templates")]
            for name in files:
                if name.endswith((".yaml", ".yml")):
                    with open(os.path.join(folder, name), "rb") as handle:
                        list(yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
    return time.perf_counter() - started


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (forked workers), from /proc.
    Pages shared copy-on-write are counted in every process: an upper bound."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(c) for c in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak memory (KiB) of one command, all its processes summed."""
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: a full pipe would block the child
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors, text=True, cwd=ROOT)
        peaks = [0]

        def sample() -> None:  # in a thread, so the wall time below is not rounded up to a sampling step
            while proc.poll() is None:
                peaks.append(_tree_rss_kib(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - started
        sampler.join()
        peak = max(peaks)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {errors.read().strip()[-500:]}")
    return wall, proc.returncode, peak


def bench_size(n: int, repeat: int, out: Path) -> dict:
    repo_dir = out / f"n{n}"
    configs, infra = repo_dir / "customer-configs", repo_dir / "platform-infrastructure"
    if not (configs / ".git").exists():
        build(repo_dir, n)
    py = sys.executable
    base = [py, "-m", "checks", "--configs", str(configs), "--infra", str(infra)]
    customer = sorted(p.name for p in (configs / "customers").iterdir())[0]
    product = sorted(p.parent.name for p in (configs / "customers" / customer).glob("*/values.yaml"))[0]
    floors, fulls, prs, values, diffs = [], [], [], [], []
    rss = 0
    codes = set()
    for _ in range(repeat):
        floors.append(parse_floor([configs, infra]))
        wall, code, peak = timed(base)
        fulls.append(wall)
        codes.add(code)
        rss = max(rss, peak)
        prs.append(timed([*base, "--base", "HEAD~1", "--head", "HEAD"])[0])
        values.append(timed([py, "-m", "checks", "values", customer, product, "prod", "--configs", str(configs),
                             "--infra", str(infra), "--format", "json"])[0])
        diffs.append(timed([py, "-m", "checks", "diff", "--configs", str(configs), "--infra", str(infra),
                            "--base", "main~1", "--head", "wide", "--direct", "--all",
                            "--report", "json=/dev/null"])[0])
    return {"customers": n, "floor": statistics.median(floors), "full": statistics.median(fulls),
            "pr": statistics.median(prs), "values": statistics.median(values), "diff": statistics.median(diffs),
            "rss_mib": rss / 1024, "clean": codes == {0}}


def pr_ratio(small: int, large: int, repeat: int, out: Path) -> tuple[float, float]:
    """The same one-customer PR on two sizes, alternating run by run: medians (s)."""
    times: dict[int, list[float]] = {small: [], large: []}
    for _ in range(repeat):
        for n in (small, large):
            repo_dir = out / f"n{n}"
            cmd = [sys.executable, "-m", "checks", "--configs", str(repo_dir / "customer-configs"),
                   "--infra", str(repo_dir / "platform-infrastructure"), "--base", "HEAD~1", "--head", "HEAD"]
            times[n].append(timed(cmd)[0])
    return statistics.median(times[small]), statistics.median(times[large])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10,100,1000")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "repos")
    args = p.parse_args()
    rows = [bench_size(int(n), args.repeat, args.out) for n in args.sizes.split(",")]
    print("| customers | parse floor (s) | full run (s) | full / floor | PR run (s) | values (s) | diff wide (s) "
          "| diff / floor | peak memory, all processes (MiB) | clean |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in rows:
        print(f"| {r['customers']} | {r['floor']:.2f} | {r['full']:.2f} | {r['full'] / r['floor']:.1f}x | "
              f"{r['pr']:.2f} | {r['values']:.2f} | {r['diff']:.2f} | {r['diff'] / r['floor']:.1f}x | "
              f"{r['rss_mib']:.0f} | {'yes' if r['clean'] else 'NO'} |")
    sizes = sorted(int(n) for n in args.sizes.split(","))
    if len(sizes) > 1:
        small, large = pr_ratio(sizes[0], sizes[-1], max(args.repeat, 5), args.out)
        print(f"\nPR run, alternating: {sizes[0]} customers {small:.2f} s, {sizes[-1]} customers {large:.2f} s "
              f"({large / small:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
