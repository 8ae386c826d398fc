"""Output integrity (issue 21): reports written whole or not at all, a report that cannot be
written named while the others are still written."""

from __future__ import annotations

import json
from pathlib import Path

from gate_repos import tiny_configs
from helpers import run_cli


def test_a_report_that_cannot_be_written_is_named_and_the_others_are_written(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    junit, sarif = tmp_path / "out/j.xml", tmp_path / "out/r.sarif"
    proc = run_cli("--configs", configs, "--report", "json=/dev/full", "--report", f"junit={junit}",
                   "--report", f"sarif={sarif}")
    assert proc.returncode == 2
    assert "cannot write report /dev/full" in proc.stderr and "internal error" not in proc.stderr
    assert junit.read_text().startswith("<?xml") and json.loads(sarif.read_text())["version"] == "2.1.0"
    assert "gitops-checks passed" in proc.stdout  # the verdict still shown


def test_reports_replace_their_file_whole(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    out = tmp_path / "r.json"
    out.write_text("old, longer than the new report " * 1000)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder is needed")
    proc = run_cli("--configs", configs, "--report", f"json={out}", "--report", f"junit={blocked}/j.xml")
    assert proc.returncode == 2 and f"cannot write report {blocked}/j.xml" in proc.stderr
    assert json.loads(out.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind
