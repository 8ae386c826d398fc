"""git/unsigned-commit with real SSH and GPG keys made in the test."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import commit_all, findings_of, git, init_repo, run_json, write_tree

BASE = {"customers/acme/metadata.yaml": "id: acme\nname: Acme\n", "customers/acme/products.yaml": "products: []\n"}


@pytest.fixture
def gnupg_home(tmp_path: Path) -> Iterator[Path]:
    """A private GNUPGHOME whose gpg-agent is stopped afterwards (it would outlive the test run)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield home
    subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(home)), check=False,
                   capture_output=True)


def test_ssh_and_gpg_signed_commits_pass_unsigned_ones_fail(tmp_path: Path, gnupg_home: Path):
    configs = init_repo(tmp_path / "configs", BASE)
    git(configs, "checkout", "-q", "-b", "feature")
    # SSH signing key and the allowed signers file, committed in the repo
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(key)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    write_tree(configs, {"allowed_signers": f"test@example.com {public}\n"})
    git(configs, "add", "-A")
    git(configs, "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S", "-m", "ssh-signed")
    ssh_signed = git(configs, "rev-parse", "HEAD")
    # GPG key in a private GNUPGHOME
    home = gnupg_home
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Test <test@example.com>", "ed25519",
                    "sign", "never"], check=True, env=env, capture_output=True)
    write_tree(configs, {"customers/acme/configs/a.yaml": "a: 1\n"})
    git(configs, "add", "-A")
    subprocess.run(["git", "-C", str(configs), "-c", "gpg.format=openpgp", "-c", "user.signingkey=test@example.com",
                    "commit", "-q", "-S", "-m", "gpg-signed"], check=True, env=env)
    write_tree(configs, {"customers/acme/configs/b.yaml": "b: 1\n"})
    unsigned = commit_all(configs, "not signed")
    code, report, _ = run_json("--configs", configs, "--base", "main", "--head", "HEAD",
                                  "--check", "git/unsigned-commit", tmp=tmp_path,
                                  env={"GNUPGHOME": str(home)})
    assert code == 1
    found = findings_of(report, "git/unsigned-commit")
    # allowed signers not configured yet: the SSH signature cannot be trusted
    assert {f["commit"] for f in found} == {ssh_signed, unsigned}
    settings = tmp_path / "settings.yaml"  # outside the repo: committing it would add an unsigned commit
    settings.write_text("checks:\n  options:\n    git/unsigned-commit:\n      allowed_signers: allowed_signers\n")
    code, report, _ = run_json("--configs", configs, "--base", "main", "--head", "HEAD", "--config", settings,
                                  "--check", "git/unsigned-commit", tmp=tmp_path, env={"GNUPGHOME": str(home)})
    found = findings_of(report, "git/unsigned-commit")
    assert code == 1 and [f["commit"] for f in found] == [unsigned]
    assert "not signed" in found[0]["message"] and "no signature" in found[0]["message"]


def test_opt_in_and_only_in_pr_mode(tmp_path: Path):
    configs = init_repo(tmp_path / "configs", BASE)
    write_tree(configs, {"customers/acme/configs/b.yaml": "b: 1\n"})
    commit_all(configs, "unsigned")
    code, report, _ = run_json("--configs", configs, "--base", "HEAD~1", "--head", "HEAD", tmp=tmp_path)
    assert code == 0 and findings_of(report, "git/unsigned-commit") == []  # not enabled by default
    code, report, _ = run_json("--configs", configs, "--check", "git", tmp=tmp_path)
    assert code == 0 and report["findings"] == []  # no PR: nothing to verify
