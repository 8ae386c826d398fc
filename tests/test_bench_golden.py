"""Findings on the benchmark trees stay what they were before the speed work (issue #20).

Both benchmark shapes (bench/generate.py: `uniform` and `mixed`) are generated at 10
customers, with real SOPS files, and seeded with the same known defects (a plaintext
password, a schema violation, an unencrypted secrets file, a bad module call...). The JSON
reports of a full run and of a PR run must equal the golden reports in tests/data/bench-golden/,
which were written by the code before the speed changes. A change that alters findings on
purpose regenerates them:

    GITOPS_CHECKS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:xdist tests/test_bench_golden.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "bench-golden"
sys.path.insert(0, str(ROOT / "bench"))

from generate import SHAPES, build, git  # noqa: E402

UPDATE = os.environ.get("GITOPS_CHECKS_UPDATE_GOLDEN") == "1"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def seed_defects(configs: Path) -> None:
    """The same defects on either shape, placed by what the tree holds (both trees are deterministic)."""
    customers = sorted(p for p in (configs / "customers").iterdir() if p.is_dir())
    first, second, third = customers[0], customers[1], customers[2]
    values = sorted(first.glob("*/values.yaml"))[0]
    _append(values, "apiToken: \"Xk29fjQ0pLm3aQz7Rt5YbW8nVc2\"\n"
                    "sidecarEnv:\n  - name: DB_PASSWORD\n    value: \"hunter2-Qm4vT9zLp7\"\n")
    prod = values.parent / "environments" / "prod.yaml"
    prod.parent.mkdir(exist_ok=True)
    prod.write_text((prod.read_text() if prod.exists() else "") + "replicaCount: \"three\"\n")
    secrets = sorted(second.glob("*/secrets.yaml"))[0]
    secrets.write_text("database:\n  username: app\n  password: \"p4ss-W0rd-9x8y7z\"\n")
    _append(second / "terraform" / "main.tf", '\nmodule "extra" {\n  source  = "../../../shared/terraform-modules/'
            'database"\n  customer_id = var.customer_id\n  colour = "blue"\n}\n')
    (third / "configs" / "application.properties").write_text("db.user=app\ndb.password=s3cr3tP4ssw0rdXk29fj\n")
    _append(third / "products.yaml", "- name: warehouse\n  enabled: true\n")
    (third / "unsubscribed").mkdir()
    (third / "unsubscribed" / "values.yaml").write_text("replicaCount: 1\nreplicaCount: 2\n")
    (third / "configs" / "broken.yaml").write_text("flags: [unclosed\n")


def _report(configs: Path, infra: Path, out: Path, *extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITOPS_CHECKS_"))}
    proc = subprocess.run([sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra),
                           *extra, "--report", f"json={out}"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 1, proc.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("shape", SHAPES)
def test_bench_tree_findings_match_golden(shape: str, tmp_path: Path) -> None:
    configs, infra = build(tmp_path / shape, 10, shape=shape)
    seed_defects(configs)
    full = _report(configs, infra, tmp_path / "full.json")
    git(configs, "add", "-A")
    git(configs, "commit", "-q", "-m", "pr: the seeded defects")
    pr = _report(configs, infra, tmp_path / "pr.json", "--base", "HEAD~1", "--head", "HEAD")
    reports = {"full": full, "pr": pr}
    golden = GOLDEN / f"{shape}-10.json"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(reports, indent=1, sort_keys=True) + "\n")
    expected = json.loads(golden.read_text())
    # the seeded defects are found at all: a golden of empty reports would prove nothing
    assert {f["check"] for f in expected["full"]["findings"]} >= {
        "secrets/plaintext", "secrets/encryption", "schema/values", "terraform/module-arguments",
        "consistency/unknown-product", "yaml/duplicate-key", "yaml/syntax"}
    for mode in ("full", "pr"):
        assert reports[mode]["summary"] == expected[mode]["summary"], mode
        assert reports[mode]["findings"] == expected[mode]["findings"], mode
