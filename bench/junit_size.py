"""JUnit report size by granularity on an N-customer repository (bench/generate.py): one run writes its
JSON report as a single shard (--shard 1/1, which keeps what was examined), then merge-reports renders
JUnit coarse and fine from it, and each file is validated against Jenkins xUnit's junit-10.xsd.
Target: at most 5 MB at 1,000 customers with the default (coarse).

    python bench/junit_size.py --customers 1000 [--repos DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
XSD = ROOT / "tests" / "data" / "contracts" / "junit-10.xsd"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--repos", type=Path, default=ROOT / "bench/results/repos")
    args = p.parse_args()
    root = args.repos / "uniform" / f"n{args.customers}"
    if not (root / "customer-configs").is_dir():
        from generate import build

        build(root, args.customers)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "shard.json"
        subprocess.run([sys.executable, "-m", "checks", "--configs", root / "customer-configs", "--infra",
                        root / "platform-infrastructure", "--shard", "1/1", "--no-progress",
                        "--report", f"json={report}"], check=False, capture_output=True)
        import xmlschema

        schema = xmlschema.XMLSchema(str(XSD))
        for granularity in ("coarse", "fine"):
            out = Path(tmp) / f"junit-{granularity}.xml"
            subprocess.run([sys.executable, "-m", "checks", "merge-reports", report, "--junit-granularity",
                            granularity, "--report", f"junit={out}"], check=False, capture_output=True)
            text = out.read_text()
            valid = "valid" if schema.is_valid(str(out)) else "INVALID"
            print(f"{granularity:6} {out.stat().st_size / 1e6:6.1f} MB  {text.count('<testcase'):7} test cases  "
                  f"{valid} against junit-10.xsd  ({args.customers} customers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
