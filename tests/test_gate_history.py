"""The history scan cannot be bypassed (issue 21): a secret added in one commit and removed in
the next is found even when that commit also breaks the file, and the scan's cost is bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from gate_repos import tiny_configs
from helpers import commit_all, examples_in_git, git, run_json

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


MIB = 1024 * 1024
BIG = f"replicaCount: 2\naws_access_key_id: {AWS}\n" + "# padding to twenty mebibytes\n" * (20 * MIB // 30)


def test_an_oversized_blob_is_never_read_whole(tmp_path: Path):
    """git is asked the size first; of a 20 MiB blob only the scan limit is read (tracemalloc's
    peak stays under the blob's size), and its size is the real one."""
    import tracemalloc

    from checks.engines.secret_scan import MAX_SCAN_BYTES
    from checks.repo.history import History

    configs = two_commits(tmp_path, BIG)
    history = History(configs, [git(configs, "rev-parse", "HEAD~1").strip()])
    reader = history.reader()
    try:
        tracemalloc.start()
        blob = reader.read(history.commits[0], VALUES, MAX_SCAN_BYTES)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert blob is not None and blob.truncated
        assert blob.size == len(BIG) >= 20 * MIB and len(blob.data) == MAX_SCAN_BYTES
        assert peak < 12 * MIB, peak  # the 8 MiB read once, never the 20 MiB
        assert blob.data.startswith(b"replicaCount: 2\n")
        # within the limit: read whole, through the same git process
        small = reader.read(history.commits[0], "customers/acme/metadata.yaml", MAX_SCAN_BYTES)
        assert small is not None and not small.truncated and small.data == b"id: acme\nname: Acme\n"
        assert reader.read(history.commits[0], "no/such/file.yaml", MAX_SCAN_BYTES) is None
        assert reader.read(history.commits[0], "customers/acme", MAX_SCAN_BYTES) is None  # a tree, not a blob
    finally:
        reader.close()


def test_a_secret_in_a_20_mib_commit_is_found_in_bounded_time(tmp_path: Path):
    import time

    configs = two_commits(tmp_path, BIG)
    started = time.monotonic()
    code, data, proc = run_json("--configs", configs, "--base", "main", "--head", "HEAD", tmp=tmp_path)
    assert time.monotonic() - started < 90
    assert code == 1, proc.stderr
    found = [f for f in data["findings"] if f["check"] == "secrets/plaintext"]
    hits = [f for f in found if "still in the repository's history" in f["message"]]
    assert hits and hits[0]["path"] == VALUES and hits[0]["line"] == 2
    (limit,) = [f for f in found if "history scan read the first" in f["message"]]
    assert limit["path"] == VALUES and limit["severity"] == "warning"
    assert f"of this file's {len(BIG)}" in limit["message"]
    assert AWS not in proc.stdout + proc.stderr + str(data)


def test_a_secret_added_and_removed_in_an_infra_pr_is_found(tmp_path: Path):
    """The history scan covers a pull request to platform-infrastructure too (its commits were
    not scanned: a key committed to a chart's defaults and removed again passed)."""
    configs, infra = examples_in_git(tmp_path)
    chart_values = "products/billing/values.yaml"
    git(infra, "checkout", "-q", "-b", "pr")
    original = (infra / chart_values).read_text()
    (infra / chart_values).write_text(original + f"aws_access_key_id: {AWS}\n")
    added = commit_all(infra, "add a key to the chart defaults")
    (infra / chart_values).write_text(original)
    commit_all(infra, "remove it again")
    code, data, proc = run_json("--configs", configs, "--infra", infra, "--infra-base", "main", "--infra-head", "pr",
                                tmp=tmp_path)
    assert code == 1, proc.stderr
    (hit,) = [f for f in data["findings"] if f["check"] == "secrets/plaintext"]
    assert hit["repo"] == "platform-infrastructure" and hit["path"] == chart_values and hit["commit"] == added
    assert "still in the repository's history" in hit["message"]
    assert AWS not in proc.stdout + proc.stderr + str(data)
