"""The history scan cannot be bypassed (issue 21): a secret added in one commit and removed in
the next is found even when that commit also breaks the file, and the scan's cost is bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from gate_repos import tiny_configs
from helpers import commit_all, git, run_json

AWS = "AKIAIOSFODNN7EXAMPLF"
VALUES = "customers/acme/billing/values.yaml"
BREAKERS = {
    "syntax error": f"replicaCount: 2\naws_access_key_id: {AWS}\nbroken: [unclosed\n",
    "duplicate key": f"replicaCount: 2\naws_access_key_id: {AWS}\nreplicaCount: 3\n",
    "python tag": f"replicaCount: !!python/object/apply:os.system ['true']\naws_access_key_id: {AWS}\n",
    "over the size limit": f"replicaCount: 2\naws_access_key_id: {AWS}\n" + "# padding\n" * 200_000,
}


def two_commits(tmp: Path, first: str, settings: str = "environments: [dev]\n") -> Path:
    configs = tiny_configs(tmp, {".gitops-checks.yaml": settings}, git=True)
    git(configs, "checkout", "-q", "-b", "pr")
    (configs / VALUES).write_text(first)
    commit_all(configs, "add the key and break the file")
    (configs / VALUES).write_text("replicaCount: 2\n")
    commit_all(configs, "remove it again")
    return configs


@pytest.mark.parametrize("how", list(BREAKERS))
def test_a_secret_in_a_broken_commit_is_found(tmp_path: Path, how: str):
    configs = two_commits(tmp_path, BREAKERS[how])
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    hits = [f for f in data["findings"] if f["check"] == "secrets/plaintext"]
    assert hits and "still in the repository's history" in hits[0]["message"] and hits[0]["path"] == VALUES
    assert AWS not in proc.stdout + proc.stderr + str(data)


def test_the_history_scan_is_bounded_and_says_so(tmp_path: Path):
    settings = "environments: [dev]\nchecks:\n  options:\n    secrets/plaintext: {history_max_bytes: 1000}\n"
    configs = two_commits(tmp_path, "replicaCount: 2\n" + "# padding\n" * 500 + f"aws_access_key_id: {AWS}\n",
                          settings)
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert code == 1, proc.stderr
    (bound,) = [f for f in data["findings"] if "history scan stopped" in f["message"]]
    assert bound["path"] == VALUES and bound["severity"] == "error"
