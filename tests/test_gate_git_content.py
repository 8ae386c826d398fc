"""What git stores that is not a plain file (issue 21): submodules, symlinks of every kind of
file, names that are not UTF-8 or hold control characters -- each on a real git repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gate_repos import tiny_configs
from helpers import commit_all, git, run_cli, run_json


def findings(data: dict, check: str) -> list[dict]:
    return [f for f in data["findings"] if f["check"] == check]


def test_a_submodule_under_customers_is_reported_at_a_revision(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    other = git(configs, "rev-parse", "HEAD")
    git(configs, "update-index", "--add", "--cacheinfo", f"160000,{other},customers/acme/billing/vendored")
    git(configs, "commit", "-q", "-m", "a submodule")
    code, data, proc = run_json("--configs", configs, "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    (f,) = findings(data, "git/submodule")
    assert f["path"] == "customers/acme/billing/vendored" and f["severity"] == "error"


def test_a_checked_out_submodule_in_the_working_tree_is_reported(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    nested = configs / "customers/acme/configs/vendor"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    code, data, _ = run_json("--configs", configs, tmp=tmp_path)
    assert code == 1
    assert [f["path"] for f in findings(data, "git/submodule")] == ["customers/acme/configs/vendor"]


def test_symlinks_that_are_not_yaml_are_checked_too(tmp_path: Path):
    configs = tiny_configs(tmp_path, {"shared/common.tf": 'variable "x" {}\n'}, git=True)
    (configs / "customers/acme/terraform").mkdir(parents=True)
    os.symlink("/etc/passwd", configs / "customers/acme/terraform/main.tf")
    (configs / "customers/acme/configs").mkdir()
    os.symlink("../../../../outside.env", configs / "customers/acme/configs/app.env")
    os.symlink("../../../shared/common.tf", configs / "customers/acme/terraform/common.tf")  # inside: fine
    commit_all(configs, "links")
    for rev in ([], ["--head", "HEAD"]):
        code, data, proc = run_json("--configs", configs, *rev, tmp=tmp_path)
        assert code == 1, proc.stderr
        bad = {f["path"]: f["message"] for f in findings(data, "git/symlink")}
        assert set(bad) == {"customers/acme/terraform/main.tf", "customers/acme/configs/app.env"}
        assert all("leaves the repository" in m for m in bad.values())


def test_a_file_name_that_is_not_utf8_is_a_finding_and_the_run_goes_on(tmp_path: Path):
    configs = tiny_configs(tmp_path, git=True)
    folder = os.fsencode(configs / "customers/acme/configs")
    os.makedirs(folder)
    with open(folder + b"/caf\xe9.yaml", "wb") as handle:
        handle.write(b"a: 1\n")
    commit_all(configs, "latin-1 name")
    junit = tmp_path / "junit.xml"
    sarif = tmp_path / "r.sarif"
    for rev in ([], ["--head", "HEAD"]):
        code, data, proc = run_json("--configs", configs, *rev, "--report", f"junit={junit}",
                                    "--report", f"sarif={sarif}", "--report", "console", tmp=tmp_path)
        assert code == 1 and "internal error" not in proc.stderr, proc.stderr
        (f,) = findings(data, "git/file-name")
        assert f["path"] == "customers/acme/configs/caf\\xe9.yaml"
        assert "caf\\xe9.yaml" in proc.stdout and junit.exists() and json.loads(sarif.read_text())["runs"]


def test_a_newline_in_a_file_name_cannot_forge_a_passed_line(tmp_path: Path):
    forged = "x.yaml\ngitops-checks passed: 0 errors, 0 warnings\n"
    configs = tiny_configs(tmp_path, {f"customers/acme/configs/{forged}.yaml": "a: 1\na: 2\n"}, git=True)
    proc = run_cli("--configs", configs, "--head", "HEAD")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert not any(line.startswith("gitops-checks passed") for line in lines), proc.stdout
    assert lines[-1].startswith("gitops-checks FAILED")
    assert "x.yaml\\x0agitops-checks passed" in proc.stdout  # shown, escaped
    assert any("git/file-name" in line for line in lines)
