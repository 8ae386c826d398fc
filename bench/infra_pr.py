"""Benchmark: pull requests to platform-infrastructure, next to the customer-configs PR.

On the benchmark repos of bench/generate.py (every customer on five products, 15 units each), three
branches of platform-infrastructure, each from the base commit:

  chart   -- one chart's defaults change (`products/{p}/values.yaml`): every unit of that product;
  readme  -- an unrelated chart's README changes: documentation, nothing to check;
and the customer-configs PR of bench/run.py (one customer's values) for comparison. Medians of
`--repeat` runs, alternating.

    python bench/infra_pr.py --sizes 100            # development
    python bench/infra_pr.py --sizes 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import build, git


def _branches(infra: Path) -> str:
    """Creates the `chart` and `readme` branches (once); returns the product whose chart changes."""
    products = sorted(p.name for p in (infra / "products").iterdir() if (p / "values.yaml").exists())
    product, other = products[0], products[-1]
    have = subprocess.run(["git", "-C", str(infra), "branch", "--list", "chart"], capture_output=True,
                          text=True, check=True).stdout
    if not have.strip():
        git(infra, "checkout", "-q", "-b", "chart", "main")
        chart = infra / "products" / product / "values.yaml"
        chart.write_text(chart.read_text() + "podAnnotations:\n  bench: changed\n")
        git(infra, "commit", "-q", "-am", "chart defaults")
        git(infra, "checkout", "-q", "-b", "readme", "main")
        (infra / "products" / other / "README.md").write_text("# notes\n\nnothing deployable changed\n")
        git(infra, "add", "-A")
        git(infra, "commit", "-q", "-m", "readme")
        git(infra, "checkout", "-q", "main")
    return product


def timed(cmd: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc.returncode, proc.stdout.strip().splitlines()[-1] if proc.stdout else ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("bench/results/repos"))
    args = p.parse_args()
    print("| customers | units | customer-configs PR (s) | infra PR: one chart's defaults (s) | units checked "
          "| infra PR: README (s) | units checked |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.sizes.split(",")):
        repo_dir = args.out / "uniform" / f"n{n}"  # the trees of bench/run.py's uniform shape
        configs, infra = repo_dir / "customer-configs", repo_dir / "platform-infrastructure"
        if not (configs / ".git").exists():
            build(repo_dir, n, shape="uniform")
        _branches(infra)
        base = [sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra), "--no-progress"]
        runs = {"configs": [*base, "--base", "HEAD~1", "--head", "HEAD"],
                "chart": [*base, "--infra-base", "main", "--infra-head", "chart"],
                "readme": [*base, "--infra-base", "main", "--infra-head", "readme"]}
        times: dict[str, list[float]] = {k: [] for k in runs}
        last: dict[str, str] = {}
        for _ in range(args.repeat):
            for name, cmd in runs.items():
                wall, _, summary = timed(cmd)
                times[name].append(wall)
                last[name] = summary
        med = {k: statistics.median(v) for k, v in times.items()}

        def units(summary: str) -> str:
            words = summary.split()
            return words[words.index("units,") - 1] if "units," in words else "?"
        print(f"| {n:,} | {n * 15:,} | {med['configs']:.2f} | {med['chart']:.2f} | {units(last['chart'])} "
              f"| {med['readme']:.2f} | {units(last['readme'])} |")
        for name in runs:
            print(f"  {name}: {last[name]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
