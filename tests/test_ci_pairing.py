"""The CI logic shared by the Jenkinsfile and bitbucket-pipelines.yml (ci/pr-checks.sh), run on real git
repositories: remotes with branches, clones as CI makes them, a pull request to either repository, paired
or not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import GIT_ENV, ROOT, commit_all, examples_in_git, git, write_tree

SCRIPT = ROOT / "ci" / "pr-checks.sh"
BRANCH = "feature/reports"


def script(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **GIT_ENV, "CHECKS_PYTHON": sys.executable, **env}
    for key in ("BITBUCKET_REPO_SLUG", "UNDER_REVIEW", "PR_ID"):
        if key not in env:
            full.pop(key, None)
    full["PYTHONPATH"] = str(ROOT)
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def remotes(tmp_path: Path) -> dict[str, Path]:
    """Bare 'Bitbucket' repositories: both on main; feature/reports in both (a new product: chart in
    platform-infrastructure, defaults and a subscription in customer-configs)."""
    configs, infra = examples_in_git(tmp_path / "seed")
    git(infra, "checkout", "-q", "-b", BRANCH)
    chart = ("Chart.yaml", "values.yaml", "templates/deployment.yaml", "templates/_helpers.tpl")
    write_tree(infra, {f"products/reports/{k}": (infra / f"products/search/{k}").read_text()
                       .replace("search", "reports") for k in chart})
    commit_all(infra, "reports chart")
    git(configs, "checkout", "-q", "-b", BRANCH)
    copied = {str(p.relative_to(configs)).replace("search", "reports"): p.read_text().replace("search", "reports")
              for folder in ("products/search", "customers/acme-corp/search") for p in (configs / folder).rglob("*")
              if p.is_file()}
    copied["customers/acme-corp/products.yaml"] = (configs / "customers/acme-corp/products.yaml").read_text() \
        + "- name: reports\n"
    write_tree(configs, copied)
    commit_all(configs, "reports defaults and subscription")
    out = {}
    for name, repo in (("customer-configs", configs), ("platform-infrastructure", infra)):
        bare = tmp_path / "remotes" / f"{name}.git"
        git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
        out[name] = bare
    return out


def workspace(tmp: Path, remotes: dict[str, Path], review: str, branch: str) -> Path:
    """As Jenkins does: the repository under review at the PR's branch, the other at main."""
    ws = tmp / "ws"
    for name, bare in remotes.items():
        git(tmp, "clone", "-q", "-b", branch if name == review else "main", str(bare), str(ws / name))
    return ws


def lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_customer_configs_pr_paired_with_the_infra_branch_of_the_same_name(tmp_path: Path, remotes):
    ws = workspace(tmp_path, remotes, "customer-configs", BRANCH)
    env = {"UNDER_REVIEW": "customer-configs", "PR_SOURCE_BRANCH": BRANCH, "PR_TARGET_BRANCH": "main"}
    prepared = script("prepare", cwd=ws, **env)
    assert prepared.returncode == 0, prepared.stderr
    assert "paired: platform-infrastructure branch feature/reports" in prepared.stdout
    assert git(ws / "platform-infrastructure", "rev-parse", "HEAD") == git(remotes["platform-infrastructure"],
                                                                           "rev-parse", BRANCH)
    assert lines(script("args", cwd=ws, **env)) == [
        "--configs", "customer-configs", "--infra", "platform-infrastructure",
        "--base", "origin/main", "--infra-base", "origin/main"]
    run = script("run", "--report", "json=out/r.json", cwd=ws, **env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pairing: paired: platform-infrastructure branch feature/reports" in run.stdout


def test_customer_configs_pr_without_a_pair_fails_product_pairing(tmp_path: Path, remotes):
    git(remotes["platform-infrastructure"], "branch", "-D", BRANCH)
    ws = workspace(tmp_path, remotes, "customer-configs", BRANCH)
    env = {"UNDER_REVIEW": "customer-configs", "PR_SOURCE_BRANCH": BRANCH, "PR_TARGET_BRANCH": "main"}
    assert "unpaired: platform-infrastructure at its default branch main" in script("prepare", cwd=ws, **env).stdout
    assert lines(script("args", cwd=ws, **env)) == [
        "--configs", "customer-configs", "--infra", "platform-infrastructure", "--base", "origin/main"]
    run = script("run", cwd=ws, **env)
    assert run.returncode == 1 and "consistency/product-pairing" in run.stdout


def test_infra_pr_in_bitbucket_pipelines_clones_the_pair_and_checks_both(tmp_path: Path, remotes):
    # Pipelines: the build's clone is the repository under review; the other is cloned next to it
    build = tmp_path / "build"
    git(tmp_path, "clone", "-q", "-b", BRANCH, str(remotes["platform-infrastructure"]), str(build))
    env = {"BITBUCKET_REPO_SLUG": "platform-infrastructure", "BITBUCKET_BRANCH": BRANCH,
           "BITBUCKET_PR_DESTINATION_BRANCH": "main", "BITBUCKET_PR_ID": "7",
           "OTHER_URL": str(remotes["customer-configs"])}
    prepared = script("prepare", cwd=build, **env)
    assert prepared.returncode == 0, prepared.stderr
    assert "paired: customer-configs branch feature/reports" in prepared.stdout
    assert (tmp_path / "customer-configs" / "customers/acme-corp/reports/values.yaml").exists()
    assert lines(script("args", cwd=build, **env)) == [
        "--configs", "../customer-configs", "--infra", ".", "--infra-base", "origin/main", "--base", "origin/main"]
    run = script("run", "--explain-scope", cwd=build, **env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "platform-infrastructure/products/reports/Chart.yaml: chart of product reports" in run.stderr


def test_infra_pr_unpaired_checks_the_chart_change_alone(tmp_path: Path, remotes):
    infra = remotes["platform-infrastructure"]
    git(infra, "branch", "-m", BRANCH, "chart-only")
    ws = workspace(tmp_path, remotes, "platform-infrastructure", "chart-only")
    env = {"UNDER_REVIEW": "platform-infrastructure", "PR_SOURCE_BRANCH": "chart-only", "PR_TARGET_BRANCH": "main"}
    assert "unpaired: customer-configs at its default branch main" in script("prepare", cwd=ws, **env).stdout
    assert lines(script("args", cwd=ws, **env))[-2:] == ["--infra-base", "origin/main"]
    run = script("run", "--report", "json=out/r.json", cwd=ws, **env)
    # a chart without a product in customer-configs is a warning: the PR passes, and says so
    assert run.returncode == 0, run.stdout
    assert "chart 'reports' has no product" in run.stdout


def test_hostile_branch_names_and_unknown_repositories_are_refused(tmp_path: Path, remotes):
    ws = workspace(tmp_path, remotes, "customer-configs", "main")
    marker = tmp_path / "pwned"
    bad = f'x"; touch {marker}; "'
    proc = script("prepare", cwd=ws, UNDER_REVIEW="customer-configs", PR_SOURCE_BRANCH=bad)
    assert proc.returncode == 2 and "not a branch name" in proc.stderr and not marker.exists()
    proc = script("prepare", cwd=ws, UNDER_REVIEW="elsewhere")
    assert proc.returncode == 2 and "UNDER_REVIEW" in proc.stderr
    proc = script("run", cwd=ws, UNDER_REVIEW="customer-configs", PR_ID="1; rm -rf /")
    assert proc.returncode == 2


def test_jenkinsfile_passes_values_through_the_environment():
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    # every shell step is a single-quoted Groovy string: Groovy interpolates nothing into the shell
    steps = re.findall(r"\bsh\s*\(?\s*(?:returnStatus:\s*true,\s*script:\s*)?(['\"]{1,3})", jenkinsfile)
    assert steps and all(q in ("'", "'''") for q in steps), steps
    assert "origin/${env.CHANGE_TARGET}" not in jenkinsfile
    for word in ("ci/pr-checks.sh prepare", "ci/pr-checks.sh run --shard", "ci/pr-checks.sh publish",
                 "ci/pr-checks.sh diff", "merge-reports", "PR_SOURCE_BRANCH = env.CHANGE_BRANCH"):
        assert word in jenkinsfile
    text = SCRIPT.read_text()
    assert "--report bitbucket --bitbucket-repo \"$UNDER_REVIEW\" --commit \"$commit\"" in text


def test_publish_posts_to_the_repository_and_commit_under_review(tmp_path: Path, remotes):
    from bitbucket_server import FakeBitbucket

    token = "t0k3n-never-print-me"
    ws = workspace(tmp_path, remotes, "platform-infrastructure", BRANCH)
    env = {"UNDER_REVIEW": "platform-infrastructure", "PR_SOURCE_BRANCH": BRANCH, "PR_TARGET_BRANCH": "main"}
    assert script("prepare", cwd=ws, **env).returncode == 0
    head = git(ws / "platform-infrastructure", "rev-parse", "HEAD")
    with FakeBitbucket(token) as bb:
        proc = script("publish", "--report", "json=out/published.json", cwd=ws, **env, BITBUCKET_URL=bb.url,
                      BITBUCKET_PROJECT="TEST", BITBUCKET_TOKEN=token)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert token not in proc.stdout + proc.stderr
        statuses = bb.calls("POST", rf"/repos/platform-infrastructure/commits/{head}/builds$")
        assert [s["body"]["state"] for s in statuses] == ["SUCCESSFUL"]
        assert bb.calls("PUT", rf"/repos/platform-infrastructure/commits/{head}/reports/gitops-checks$")
        assert not bb.calls("POST", r"/repos/customer-configs/")


@pytest.mark.parametrize(("review", "target", "expected"), [
    ("customer-configs", "release", "release"),  # the PR's head becomes the target branch
    ("platform-infrastructure", "main", "main"),  # customer-configs checked out at its default branch
])
def test_the_configs_checkout_stands_for_its_branch_and_every_branch_is_fetched(tmp_path: Path, remotes, review,
                                                                               target, expected):
    """`$values` refs naming another branch are read from git (engines/ref_revisions.py): the script says
    which branch the customer-configs checkout stands for, and has every customer-configs branch."""
    git(tmp_path, "--git-dir", str(remotes["customer-configs"]), "branch", "release", "main")
    ws = workspace(tmp_path, remotes, review, BRANCH)
    env = {"UNDER_REVIEW": review, "PR_SOURCE_BRANCH": BRANCH, "PR_TARGET_BRANCH": target}
    assert script("prepare", cwd=ws, **env).returncode == 0
    assert git(ws / "customer-configs", "rev-parse", "--verify", "origin/release")
    # what the tool is started with: a stand-in interpreter that prints the variable it was given
    probe = tmp_path / "probe.sh"
    probe.write_text('#!/bin/sh\necho "branch=$GITOPS_CHECKS_BRANCH"\n')
    probe.chmod(0o755)
    ran = script("run", cwd=ws, CHECKS_PYTHON=str(probe), **env)
    assert lines(ran) == [f"branch={expected}"]
    ran = script("run", cwd=ws, CHECKS_PYTHON=str(probe), GITOPS_CHECKS_BRANCH="prod", **env)
    assert lines(ran) == ["branch=prod"]  # the caller's own setting wins
