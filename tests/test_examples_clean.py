"""The bundled examples (the input of `make demo`) pass every default check, and no check crashes on them.

A check that crashes is an internal/crash finding, not a test failure of its own: this is the test
that notices one in a check no other test runs on a whole platform (appset/deployed-values did).
"""

from __future__ import annotations

import json
from pathlib import Path

from checks.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_examples_pass_every_default_check_without_a_crash(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    code = main(["--configs", str(EXAMPLES / "customer-configs"), "--infra", str(EXAMPLES / "platform-infrastructure"),
                 "--no-progress", "--report", f"json={out}"])
    report = json.loads(out.read_text())
    assert [f for f in report["findings"] if f["check"] == "internal/crash"] == []
    assert report["findings"] == []
    assert report["summary"]["units"] > 200
    assert code == 0
