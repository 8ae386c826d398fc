"""Generate an N-customer repository pair with git history: a base commit and a head commit
that changes one customer's values (the shape of a typical PR). Two shapes:

  uniform -- every customer on five products in three environments (15 units), with a SOPS
             secrets file and prod overrides for every product (issue #10's benchmark);
  mixed   -- the real-world shape of issue #20: one to five products a customer, most with a
             SOPS secrets file, environment overrides for some environments only, Terraform
             and configs/ files.

    python bench/generate.py --customers 1000 --shape mixed --out /tmp/gitops-bench
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import pyrage
from repogen import BENCH_PRODUCTS, generate

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


SHAPES = ("uniform", "mixed")


def build(out: Path, customers: int, seed: int = 7, shape: str = "uniform") -> tuple[Path, Path]:
    identity = pyrage.x25519.Identity.generate()
    gen = generate(out, customers=customers, seed=seed, age_recipient=str(identity.to_public()), encrypt="template",
                   catalogue=BENCH_PRODUCTS, every_product=shape == "uniform", shape=shape)
    for repo in (gen.configs, gen.infra):
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "base")
    # head: one customer's values change, as in a typical PR
    target = gen.configs / "customers" / gen.customers[len(gen.customers) // 2]
    values = next(sorted(target.glob("*/values.yaml")).__iter__())
    values.write_text(values.read_text() + "replicaCount: 2\n")
    git(gen.configs, "commit", "-q", "-am", "head: one customer's values")
    # branch `wide`: from the base, a change to every product's base values (every unit differs)
    git(gen.configs, "checkout", "-q", "-b", "wide", "HEAD~1")
    for base_values in sorted(gen.configs.glob("products/*/base-values.yaml")):
        base_values.write_text(base_values.read_text().replace("logLevel: info", "logLevel: warn")
                               .replace("memory: 64Mi", "memory: 96Mi"))
    git(gen.configs, "commit", "-q", "-am", "wide: every product's base values")
    git(gen.configs, "checkout", "-q", "main")
    return gen.configs, gen.infra


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--out", type=Path, default=Path("bench/results/repos"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--shape", choices=SHAPES, default="uniform")
    args = p.parse_args()
    configs, infra = build(args.out / args.shape / f"n{args.customers}", args.customers, args.seed, args.shape)
    print(f"configs: {configs}\ninfra:   {infra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
