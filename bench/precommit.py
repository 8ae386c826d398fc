"""The pre-commit hook on a one-file commit: the hook's entry plus that file, as pre-commit runs it,
on an N-customer repository pair (bench/generate.py). Target: under 1 s at 1,000 customers.

    python bench/precommit.py --customers 1000 [--repos DIR] [--runs 5]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--repos", type=Path, default=ROOT / "bench/results/repos",
                   help="where bench/generate.py put (or will put) the repositories")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--hook", default="gitops-checks")
    args = p.parse_args()
    configs = args.repos / "uniform" / f"n{args.customers}" / "customer-configs"
    if not configs.is_dir():
        from generate import build

        configs, _ = build(configs.parent, args.customers)
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == args.hook)
    entry = shlex.split(hook["entry"])
    customer = sorted(p.name for p in (configs / "customers").iterdir())[args.customers // 3]
    values = sorted((configs / "customers" / customer).glob("*/values.yaml"))[0]
    original = values.read_text()
    command = [sys.executable, "-m", "checks", *entry[1:], str(values.relative_to(configs))]
    times = []
    try:
        values.write_text(original + "replicaCount: 4\n")  # the commit: one values file of one customer
        for _ in range(args.runs):
            started = time.perf_counter()
            proc = subprocess.run(command, cwd=configs, capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if proc.returncode not in (0, 1):
                print(proc.stderr, file=sys.stderr)
                return 1
    finally:
        values.write_text(original)
    summary = proc.stdout.strip().splitlines()[-1]
    print(f"{args.hook} hook, one-file commit on {args.customers} customers: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} runs)\n  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
