"""Side by side on one generated tree: `python -m checks --check secrets` against
`detect-secrets scan --all-files`, alternating, median of --repeat runs.

    python bench/secrets_vs_detect_secrets.py --customers 1000 --shape mixed
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import SHAPES, build

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--shape", choices=SHAPES, default="uniform")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "repos")
    args = p.parse_args()
    repo_dir = args.out / args.shape / f"n{args.customers}"
    configs, infra = repo_dir / "customer-configs", repo_dir / "platform-infrastructure"
    if not (configs / ".git").exists():
        build(repo_dir, args.customers, shape=args.shape)
    bindir = Path(sys.executable).parent
    ours_cmd = [sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra), "--check", "secrets",
                "--report", "json"]
    theirs_cmd = [str(bindir / "detect-secrets"), "scan", "--all-files", "customer-configs", "platform-infrastructure"]
    ours, theirs = [], []
    ours_findings = theirs_findings = -1
    for _ in range(args.repeat):
        started = time.perf_counter()
        proc = subprocess.run(ours_cmd, capture_output=True, text=True, cwd=ROOT)
        ours.append(time.perf_counter() - started)
        ours_findings = len(json.loads(proc.stdout)["findings"])
        started = time.perf_counter()
        proc = subprocess.run(theirs_cmd, capture_output=True, text=True, cwd=repo_dir)
        theirs.append(time.perf_counter() - started)
        theirs_findings = sum(len(v) for v in json.loads(proc.stdout)["results"].values())
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"| tool | wall (s), median of {args.repeat} | findings on the clean tree |")
    print("|---|---:|---:|")
    print(f"| gitops-checks --check secrets | {o:.2f} | {ours_findings} |")
    print(f"| detect-secrets scan --all-files | {t:.2f} | {theirs_findings} |")
    print(f"\nratio: {o / t:.2f} (target: at most 0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
