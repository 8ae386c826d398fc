"""Developers before pushing: the pre-commit hooks run as pre-commit runs them (the entry plus the
commit's files, in one process), scoped like PR mode; a pinned `rev:` is not a secret."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from helpers import GIT_ENV, ROOT, copy_examples, git, init_repo

HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
SUMMARY = re.compile(r"-- (\d+) checks, (\d+) units, (\d+) files")


def run_hook(hook_id: str, repo: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    """What pre-commit does for a `language: python` hook with pass_filenames: entry + the files, in the repo."""
    hook = HOOKS[hook_id]
    entry = shlex.split(hook["entry"])
    assert entry[0] == "gitops-checks"  # the console script; here the same module from this checkout
    command = [sys.executable, "-m", "checks", *entry[1:], *(files if hook.get("pass_filenames", True) else [])]
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, timeout=120)


def staged(repo: Path) -> list[str]:
    git(repo, "add", "-A")
    return git(repo, "diff", "--cached", "--name-only").splitlines()


def test_hooks_take_the_commits_files_in_one_run():
    for hook in HOOKS.values():
        assert hook["pass_filenames"] is True and hook["require_serial"] is True  # each check once, all files
        assert hook["entry"].endswith("--files") and "always_run" not in hook


def test_hook_checks_what_the_commits_files_affect_and_points_at_the_line(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    init_repo(configs)
    values = configs / "customers/globex/search/values.yaml"
    values.write_text(values.read_text() + "replicaCount: 2\nreplicaCount: 3\n")
    files = staged(configs)
    assert files == ["customers/globex/search/values.yaml"]
    proc = run_hook("gitops-checks", configs, files)
    assert proc.returncode == 1, proc.stderr
    line = len(values.read_text().splitlines())
    assert "customers/globex/search/values.yaml" in proc.stdout and f"{line}:" in proc.stdout
    assert "yaml/duplicate-key" in proc.stdout
    checks, units, _ = map(int, SUMMARY.search(proc.stdout).groups())
    assert units == 9  # globex: three products in three environments, not the 222 of every customer
    # the secrets hook, on the same commit: only the secrets checks, same scope
    proc = run_hook("gitops-checks-secrets", configs, files)
    assert proc.returncode == 0 and int(SUMMARY.search(proc.stdout).group(1)) < checks
    # a documentation-only commit has nothing to check and passes
    git(configs, "reset", "-q", "--hard")
    (configs / "NOTES.md").write_text("# notes\n")
    proc = run_hook("gitops-checks", configs, ["NOTES.md"])
    assert proc.returncode == 0 and SUMMARY.search(proc.stdout).group(2) == "0"
    # no file at all is a mistake, not a pass
    proc = run_hook("gitops-checks", configs, [])
    assert proc.returncode == 2 and "--files needs at least one path" in proc.stderr


def test_a_pinned_rev_in_pre_commit_config_is_not_a_secret(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    init_repo(configs)
    (configs / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n"
        "    rev: 2c9f875913ee60ca25ce70243dc24d5b6415598c\n    hooks:\n      - id: check-yaml\n")
    (configs / "customers/acme-corp/configs/pins.yaml").write_text(
        "chart:\n  version: 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c\n  ref: 9b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c\n"
        "apiKey: 2c9f875913ee60ca25ce70243dc24d5b6415598c\nprevious: 2c9f875913ee60ca25ce70243dc24d5b6415598c\n")
    proc = run_hook("gitops-checks-secrets", configs, staged(configs))
    assert proc.returncode == 1
    flagged = re.findall(r"at (\S+)\s+\[secrets/plaintext\]", proc.stdout)
    assert sorted(flagged) == ["apiKey", "previous"]  # a digest under another key is still reported
    assert ".pre-commit-config.yaml" not in proc.stdout


def _tree_digest(root: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_demo_change_is_caught_at_file_and_line_and_leaves_examples_alone():
    before = _tree_digest(ROOT / "examples")
    proc = subprocess.run([sys.executable, "tools/demo_change.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**GIT_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for where, check in (("customers/acme-corp/billing/values.yaml\n       10:3", "yaml/duplicate-key"),
                         ("customers/globex/search/environments/prod.yaml\n        1:1", "schema/values"),
                         ("customers/initech/products.yaml\n        7:3", "consistency/unknown-product"),
                         ("customers/acme-corp/configs/app.env\n        2:", "secrets/plaintext")):
        assert where in out and check in out, where
    assert "ghp_" not in out  # the planted token is reported by its hash, never shown
    assert '~ image.tag: "5.2.0" -> "5.3.0"' in out and "application removed (ArgoCD deletes it)" in out
    assert _tree_digest(ROOT / "examples") == before
