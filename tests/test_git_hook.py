"""Run as a pre-commit hook, inside `git commit`: git exports GIT_INDEX_FILE (and, from a linked
worktree or with `--only`, GIT_DIR and a temporary index) to the hook. The suite's git calls name
their repository with `-C`; those variables must not send them to the hook's repository or index
(pre-commit's `no_git_env` clears them the same way)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from helpers import GIT_ENV, ROOT, commit_all, findings_of, git, init_repo, write_tree

from checks.repo.source import git_environment

BASE_FILES = {
    ".gitops-checks.yaml": "checks:\n  disable: [git]\n",
    "customers/acme/metadata.yaml": "name: acme\n",
    "customers/acme/products.yaml": "products: [web]\n",
    "customers/acme/web/values.yaml": "replicaCount: 1\n",
    "customers/globex/metadata.yaml": "name: globex\n",
    "customers/globex/products.yaml": "products: [web]\n",
    "customers/globex/web/values.yaml": "replicaCount: 1\n",
    "products/web/base-values.yaml": "replicaCount: 1\n",
}


def test_the_suite_inside_a_real_commit_hook_reads_its_own_repository(tmp_path: Path) -> None:
    configs = init_repo(tmp_path / "customer-configs", BASE_FILES)
    git(configs, "checkout", "-q", "-b", "change")
    write_tree(configs, {"customers/acme/web/values.yaml": "replicaCount: 1\nreplicaCount: 2\n"})
    commit_all(configs, "a duplicate key")
    # the repository being committed to, whose hook runs the suite on customer-configs
    outer = init_repo(tmp_path / "outer", {"README.md": "x\n"})
    report, seen = tmp_path / "report.json", tmp_path / "hook-env.json"
    hook = outer / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        f"#!/bin/sh\n"
        f"{sys.executable} -c 'import json, os; json.dump({{k: v for k, v in os.environ.items() "
        f"if k.startswith(\"GIT_\")}}, open(\"{seen}\", \"w\"))'\n"
        f"cd {ROOT} && {sys.executable} -m checks --configs {configs} --base main --no-progress "
        f"--report json={report} > {tmp_path / 'hook.out'} 2>&1\n"
        f"echo $? > {tmp_path / 'hook.rc'}\nexit 0\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    write_tree(outer, {"README.md": "y\n"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    # -a: git commits through a temporary index, whose path it exports to the hook
    subprocess.run(["git", "-C", str(outer), "commit", "-q", "-a", "-m", "edit"], check=True, env=env,
                   capture_output=True)
    hook_env = json.loads(seen.read_text())
    assert "GIT_INDEX_FILE" in hook_env, "git exported no index to the hook: the test would prove nothing"
    assert (tmp_path / "hook.rc").read_text().strip() == "1", (tmp_path / "hook.out").read_text()
    data = json.loads(report.read_text())
    (dup,) = findings_of(data, "yaml/duplicate-key")
    assert dup["path"] == "customers/acme/web/values.yaml" and dup["line"] == 2
    # acme's web in dev, staging and prod: the change's scope, not globex (read through the hook's
    # index, every file of customer-configs would look new)
    assert data["summary"]["units"] == 3


def test_git_variables_are_cleared_as_pre_commit_does() -> None:
    env = git_environment({"GIT_INDEX_FILE": "/x/index", "GIT_DIR": "/x/.git", "GIT_WORK_TREE": "/x",
                           "GIT_EXEC_PATH": "/usr/lib/git-core", "GIT_SSH_COMMAND": "ssh -i k",
                           "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c", "GIT_CONFIG_COUNT": "1",
                           "GIT_ASKPASS": "/bin/true", "HOME": "/home/u", "PATH": "/bin"})
    assert env == {"GIT_EXEC_PATH": "/usr/lib/git-core", "GIT_SSH_COMMAND": "ssh -i k", "GIT_CONFIG_KEY_0": "a.b",
                   "GIT_CONFIG_VALUE_0": "c", "GIT_CONFIG_COUNT": "1", "GIT_ASKPASS": "/bin/true",
                   "HOME": "/home/u", "PATH": "/bin"}
