"""A full run's trees listed in a child process while the CLI imports (repo/listing_prefetch.py):
the same listing as the walk, or the walk itself when the child fails; real folders, real forks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, cli_env, copy_examples, init_repo, run_in_process, write_tree

from checks.cli.prefetch import full_run_roots
from checks.repo import listing_prefetch
from checks.repo.source import WorkingTreeSource


def _odd_tree(root: Path) -> Path:
    """Nested folders, a link, a submodule's `.git` file and folder, a name that is not UTF-8."""
    write_tree(root, {"customers/acme/products.yaml": "a: 1\n", "customers/acme/web/values.yaml": "b: 2\n",
                      "products/web/values.yaml": "c: 3\n", "sub/.git": "gitdir: ../.git/modules/sub\n",
                      "nested/.git/HEAD": "ref: refs/heads/main\n", "nested/x.yaml": "x: 1\n",
                      "empty.yaml": ""})
    (root / "customers" / "acme" / "link.yaml").symlink_to("../../products/web/values.yaml")
    os.makedirs(root / "customers" / "acme" / "db")
    with open(os.path.join(os.fsencode(root / "customers"), b"bad\xffname.yaml"), "wb") as f:
        f.write(b"k: v\n")
    return root


def _walked(root: Path) -> tuple[dict, list]:
    source = WorkingTreeSource(root, "customer-configs")
    return source.files(), source.odd_entries()


def test_the_child_lists_what_the_walk_lists(tmp_path: Path):
    root = _odd_tree(tmp_path / "c")
    expected_files, expected_odd = _walked(root)
    WorkingTreeSource.start_listing(root)
    source = WorkingTreeSource(root, "customer-configs")
    files = source.files()
    assert str(root.resolve()) not in listing_prefetch._pending  # taken: the child's answer was used
    assert files == expected_files and list(files) == list(expected_files)  # same entries, same order
    assert source.odd_entries() == expected_odd
    assert {o.kind for o in expected_odd} == {"submodule", "non-utf8-name"}
    assert files["customers/acme/link.yaml"].symlink_target == "../../products/web/values.yaml"
    assert files["customers/acme/products.yaml"].size == 5


def _raises(root: str) -> object:
    raise PermissionError(root)


def _leaves_silently(root: str) -> object:
    os._exit(0)  # exit code 0 without an answer


@pytest.mark.parametrize("walk", [_raises, _leaves_silently])
def test_a_child_that_fails_or_says_nothing_leaves_the_walk_to_the_run(tmp_path: Path, walk):
    root = str(_odd_tree(tmp_path / "c").resolve())
    listing_prefetch.start(root, walk)
    assert listing_prefetch.take(root) is None
    assert listing_prefetch._pending == {}


def test_a_missing_root_is_walked_by_the_run_and_fails_there(tmp_path: Path):
    missing = str((tmp_path / "missing").resolve())
    WorkingTreeSource.start_listing(Path(missing))
    assert listing_prefetch.take(missing) is None  # the child died: nothing to take


def test_a_listing_nobody_takes_is_stopped_and_reaped(tmp_path: Path):
    root = _odd_tree(tmp_path / "c")
    WorkingTreeSource.start_listing(root)
    pid = listing_prefetch._pending[str(root.resolve())][0]
    listing_prefetch.abandon()
    assert listing_prefetch._pending == {}
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)


def test_a_newer_start_replaces_an_older_listing_of_the_same_tree(tmp_path: Path):
    root = tmp_path / "c"
    write_tree(root, {"a.yaml": "a: 1\n"})
    WorkingTreeSource.start_listing(root)
    first = listing_prefetch._pending[str(root.resolve())][0]
    write_tree(root, {"b.yaml": "b: 1\n"})
    WorkingTreeSource.start_listing(root)
    with pytest.raises(ChildProcessError):
        os.waitpid(first, os.WNOHANG)
    assert set(WorkingTreeSource(root, "c").files()) == {"a.yaml", "b.yaml"}


def test_another_process_never_takes_a_listing_it_did_not_start(tmp_path: Path):
    root = _odd_tree(tmp_path / "c")
    key = str(root.resolve())
    WorkingTreeSource.start_listing(root)
    pid = os.fork()
    if pid == 0:  # a forked worker: its take must leave the pipe alone
        os._exit(0 if listing_prefetch.take(key) is None else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert listing_prefetch.take(key) is not None


@pytest.mark.parametrize(("args", "expected"), [
    (["--configs", "C", "--infra", "I"], ["C", "I"]),
    (["--configs=C", "--infra=I", "--report", "json=x.json"], ["C", "I"]),
    (["--configs", "C", "--config", "settings.yaml"], ["C"]),
    (["--infra", "I", "--configs", "C", "--", "--base", "x"], ["C", "I"]),
    (["--configs", "C", "--base", "HEAD~1"], None),  # PR mode: some customers walked, the rest from git
    (["--configs", "C", "--files", "a.yaml"], None),
    (["--configs", "C", "--head", "HEAD"], None),  # a revision, read from git
    (["--configs", "C", "--infra", "I", "--infra-base", "main"], None),
    (["--inf", "I", "--configs", "C"], None),  # an abbreviation: argparse decides what it means
    (["--configs"], None),
    (["--configs", "C", "--infra", "missing"], ["C"]),  # the run reports a missing folder itself
])
def test_only_a_full_run_prefetches_the_folders_it_names(tmp_path: Path, args: list[str],
                                                          expected: list[str] | None):
    (tmp_path / "C").mkdir()
    (tmp_path / "I").mkdir()
    def place(arg: str) -> str:
        option, eq, value = arg.rpartition("=")
        return option + eq + str(tmp_path / value) if value in ("C", "I", "missing") else arg
    given = [place(a) for a in args]
    roots = full_run_roots(given)
    assert roots == (None if expected is None else [(tmp_path / e).resolve() for e in expected])


def test_without_configs_the_git_checkout_around_the_current_folder(tmp_path: Path, monkeypatch):
    repo = init_repo(tmp_path / "r", {"customers/a/products.yaml": "web: {}\n"})
    (repo / "customers" / "a").mkdir(exist_ok=True)
    monkeypatch.chdir(repo / "customers" / "a")
    assert full_run_roots([]) == [repo.resolve()]


def _report(configs: Path, infra: Path, tmp: Path, name: str, cpus: set[int] | None) -> dict:
    out = tmp / f"{name}.json"
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    subprocess.run([sys.executable, "-m", "checks", "--configs", str(configs), "--infra", str(infra),
                    "--report", f"json={out}", "--no-progress"], cwd=ROOT, env=cli_env(), capture_output=True,
                   timeout=120, preexec_fn=preexec, check=False)
    report = json.loads(out.read_text())
    report.pop("duration_seconds", None)
    return report


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the prefetch needs a second CPU")
def test_a_run_with_the_prefetch_reports_what_a_run_without_it_does(tmp_path: Path):
    configs, infra = copy_examples(tmp_path / "ex")
    # a finding about the listing itself: a file that is a link
    (configs / "customers" / "link.yaml").symlink_to("/etc/passwd")
    with_prefetch = _report(configs, infra, tmp_path, "two", None)
    one_cpu = _report(configs, infra, tmp_path, "one", {min(os.sched_getaffinity(0))})
    assert with_prefetch == one_cpu
    assert any(f["check"] == "yaml/symlink" for f in with_prefetch["findings"])


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the prefetch needs a second CPU")
def test_a_full_run_takes_both_listings_from_their_children(tmp_path: Path, monkeypatch):
    # (the report comparison above would pass as well if no child were ever started)
    configs, infra = copy_examples(tmp_path / "ex")
    answers: dict[str, object] = {}
    take = listing_prefetch.take

    def recording_take(root: str) -> object | None:
        answers[root] = answer = take(root)
        return answer

    monkeypatch.setattr(listing_prefetch, "take", recording_take)
    proc = run_in_process(["--configs", str(configs), "--infra", str(infra), "--no-progress"], ROOT, cli_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(answers) == {str(configs.resolve()), str(infra.resolve())}
    assert all(answer is not None for answer in answers.values())
    assert listing_prefetch._pending == {}
