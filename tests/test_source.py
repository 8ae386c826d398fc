"""Reading repositories: the working tree and git revisions (real git, no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import commit_all, git, init_repo, write_tree

from checks.repo.source import (
    GitSource,
    SourceError,
    WorkingTreeSource,
    changed_paths,
    merge_base,
    open_source,
    resolve_revision,
)


def test_git_source_reads_a_revision_without_checkout(tmp_path: Path):
    repo = init_repo(tmp_path / "r", {"a.yaml": "a: 1\n", "dir/b.yaml": "b: 2\n"})
    first = git(repo, "rev-parse", "HEAD")
    write_tree(repo, {"a.yaml": "a: 99\n"})
    commit_all(repo, "change a")
    src = GitSource(repo, "customer-configs", first)
    try:
        assert set(src.files()) == {"a.yaml", "dir/b.yaml"}
        assert src.read("a.yaml") == b"a: 1\n"
        assert src.read("dir/b.yaml") == b"b: 2\n"
        # many reads through the one cat-file process
        for _ in range(50):
            assert src.read("a.yaml") == b"a: 1\n"
    finally:
        src.close()
    assert WorkingTreeSource(repo, "x").read("a.yaml") == b"a: 99\n"


def test_git_source_in_a_subfolder_of_a_work_tree(tmp_path: Path):
    repo = init_repo(tmp_path / "r", {"examples/configs/c.yaml": "c: 1\n", "other.txt": "x"})
    src = GitSource(repo / "examples" / "configs", "customer-configs", "HEAD")
    try:
        assert set(src.files()) == {"c.yaml"}
        assert src.read("c.yaml") == b"c: 1\n"
    finally:
        src.close()


def test_git_symlinks_are_listed_not_followed(tmp_path: Path):
    repo = init_repo(tmp_path / "r", {"a.yaml": "a: 1\n"})
    (repo / "link.yaml").symlink_to("/etc/passwd")
    commit_all(repo, "link")
    src = GitSource(repo, "c", "HEAD")
    try:
        entry = src.files()["link.yaml"]
        assert entry.is_symlink and entry.symlink_target == "/etc/passwd"
        with pytest.raises(SourceError):
            src.read("link.yaml")
    finally:
        src.close()


def test_unknown_revision_and_non_repository_are_clear_errors(tmp_path: Path):
    repo = init_repo(tmp_path / "r", {"a.yaml": "a: 1\n"})
    with pytest.raises(SourceError, match="unknown revision 'nope'"):
        GitSource(repo, "c", "nope")
    with pytest.raises(SourceError, match="invalid revision"):
        GitSource(repo, "c", "--output=/tmp/x")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceError, match="not a git repository"):
        GitSource(plain, "c", "HEAD")
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "missing", "c", None)


def test_changed_paths_from_the_merge_base(tmp_path: Path):
    repo = init_repo(tmp_path / "r", {"keep.yaml": "k: 1\n", "old.yaml": "o: " + "x" * 200 + "\n",
                                      "gone.yaml": "g: 1\n", "mod.yaml": "m: 1\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "gone.yaml").unlink()
    git(repo, "mv", "old.yaml", "new.yaml")
    write_tree(repo, {"mod.yaml": "m: 2\n", "added.yaml": "a: 1\n"})
    commit_all(repo, "feature work")
    # main moves on after the branch point: not part of base...head
    git(repo, "checkout", "-q", "main")
    write_tree(repo, {"main-only.yaml": "x: 1\n"})
    commit_all(repo, "main work")
    git(repo, "checkout", "-q", "feature")
    changes = {(c.status, c.path, c.old_path) for c in changed_paths(repo, "main", "HEAD")}
    assert changes == {("D", "gone.yaml", None), ("R", "new.yaml", "old.yaml"),
                       ("M", "mod.yaml", None), ("A", "added.yaml", None)}
    # head = working tree: uncommitted and untracked files count too
    write_tree(repo, {"untracked.yaml": "u: 1\n", "keep.yaml": "k: 2\n"})
    changes = {(c.status, c.path) for c in changed_paths(repo, "main", None)}
    assert ("A", "untracked.yaml") in changes and ("M", "keep.yaml") in changes


def test_many_files_read_in_one_exchange_match_one_by_one_reads(tmp_path: Path):
    # more data than a pipe holds (64 KiB) in both directions: the pipelined read must not block
    files = {f"d/f{i:04d}.tf": f"# file {i}\n" + "x" * (i * 37 % 9000) + "\n" for i in range(400)}
    files["big.bin"] = "y" * 300_000
    repo = init_repo(tmp_path / "r", files)
    source = GitSource(repo, "customer-configs", "HEAD")
    wanted = [*sorted(files), "missing.tf"]
    many = source.read_many(wanted)
    assert set(many) == set(files)  # the missing one is left out, not an error
    assert all(many[p] == source.read(p) == files[p].encode() for p in files)
    source.close()


def _listing(src: WorkingTreeSource) -> dict:
    return {p: (e.size, e.symlink_target) for p, e in src.files().items()}


def test_walking_some_customers_lists_the_others_from_git_index_as_the_walk_would(tmp_path: Path):
    """pre-commit's `--files` walks only the commit's customers; the others come from git's index
    (no folder opened): the same files, sizes and links as the whole walk, for what git tracks."""
    repo = init_repo(tmp_path / "r", {
        ".gitops-checks.yaml": "exclude: []\n", "products/p/base-values.yaml": "a: 1\n",
        "customers/a/metadata.yaml": "name: a\n", "customers/a/p/values.yaml": "x: 1\n",
        "customers/b/metadata.yaml": "name: b\n", "customers/b/p/environments/prod.yaml": "replicas: 3\n",
        "customers/b/terraform/main.tf": 'terraform {\n  backend "s3" {}\n}\n', "customers/c/p/values.yaml": "y: 2\n",
        "shared/terraform-modules/db/main.tf": "# module\n"})
    (repo / "customers/b/p/link.yaml").symlink_to("../../a/p/values.yaml")
    commit_all(repo, "link")
    (repo / "customers/c/p/values.yaml").write_text("y: 2\nz: 3\n")  # changed, not staged: size now
    whole = WorkingTreeSource(repo, "c")
    narrow = WorkingTreeSource(repo, "c")
    narrow.walk_customers_only({"a"})
    assert _listing(narrow) == _listing(whole)
    assert narrow.files()["customers/c/p/values.yaml"].size == len("y: 2\nz: 3\n")
    assert narrow.files()["customers/b/p/link.yaml"].symlink_target == "../../a/p/values.yaml"
    assert narrow.read("customers/b/terraform/main.tf") == b'terraform {\n  backend "s3" {}\n}\n'
    assert narrow.odd_entries() == whole.odd_entries() == []
    # what git does not track: seen in the walked customer and in a customer git knows nothing of
    # (not yet added), not in the other customers' folders, whose files no commit of this change carries
    write_tree(repo, {"customers/a/p/new.yaml": "n: 1\n", "customers/b/p/untracked.yaml": "u: 1\n",
                      "customers/d/metadata.yaml": "name: d\n"})
    narrow = WorkingTreeSource(repo, "c")
    narrow.walk_customers_only({"a"})
    listed = narrow.files()
    assert "customers/a/p/new.yaml" in listed and "customers/d/metadata.yaml" in listed
    assert "customers/b/p/untracked.yaml" not in listed
    assert set(listed) == set(WorkingTreeSource(repo, "c").files()) - {"customers/b/p/untracked.yaml"}


def test_a_folder_replaced_by_a_link_is_not_read_through_from_the_index(tmp_path: Path):
    """A customer folder git tracks, replaced on disk by a link out of the repository: the file
    listed from the index is not read through the link (the walk would not have entered it)."""
    outside = tmp_path / "outside"
    write_tree(outside, {"main.tf": "secret = 1\n"})
    repo = init_repo(tmp_path / "r", {"customers/a/metadata.yaml": "name: a\n",
                                      "customers/b/terraform/main.tf": "x = 1\n"})
    (repo / "customers/b/terraform/main.tf").unlink()
    (repo / "customers/b/terraform").rmdir()
    (repo / "customers/b/terraform").symlink_to(outside)
    narrow = WorkingTreeSource(repo, "c")
    narrow.walk_customers_only({"a"})
    with pytest.raises(SourceError):
        narrow.read("customers/b/terraform/main.tf")
    assert narrow.read_many(["customers/b/terraform/main.tf", "customers/a/metadata.yaml"]) == {
        "customers/a/metadata.yaml": b"name: a\n"}


def test_walking_some_customers_outside_git_walks_everything(tmp_path: Path):
    write_tree(tmp_path / "plain", {"customers/a/m.yaml": "a: 1\n", "customers/b/m.yaml": "b: 1\n"})
    narrow = WorkingTreeSource(tmp_path / "plain", "c")
    narrow.walk_customers_only({"a"})
    assert set(narrow.files()) == {"customers/a/m.yaml", "customers/b/m.yaml"}


def test_walking_some_customers_in_a_subfolder_of_a_work_tree(tmp_path: Path):
    """customer-configs inside a bigger repository (as examples/ is here): the index's paths are
    taken relative to the configs root, and nothing outside it is listed."""
    repo = init_repo(tmp_path / "r", {"examples/configs/customers/a/m.yaml": "a: 1\n",
                                      "examples/configs/customers/b/p/values.yaml": "b: 1\n",
                                      "customers/elsewhere/m.yaml": "x: 1\n", "other.txt": "x"})
    root = repo / "examples" / "configs"
    narrow = WorkingTreeSource(root, "c")
    narrow.walk_customers_only({"a"})
    assert _listing(narrow) == _listing(WorkingTreeSource(root, "c"))
    assert set(narrow.files()) == {"customers/a/m.yaml", "customers/b/p/values.yaml"}
    assert narrow.read("customers/b/p/values.yaml") == b"b: 1\n"


def test_revision_names_are_asked_each_time_object_names_once(tmp_path: Path):
    """git's answers are remembered only where they cannot change: a branch or HEAD moves with the
    next commit, a full object name and the merge base of two commits do not."""
    repo = init_repo(tmp_path / "r", {"a.yaml": "a: 1\n"})
    first = resolve_revision(repo, "HEAD")
    write_tree(repo, {"a.yaml": "a: 2\n"})
    second = commit_all(repo, "two")
    assert resolve_revision(repo, "HEAD") == second != first
    assert resolve_revision(repo, first) == first and resolve_revision(repo, first) == first
    assert merge_base(repo, first, "HEAD") == first
    git(repo, "checkout", "-q", "-b", "side", first)
    write_tree(repo, {"b.yaml": "b: 1\n"})
    third = commit_all(repo, "side")
    assert merge_base(repo, second, "HEAD") == first  # HEAD is now the side branch's commit
    assert resolve_revision(repo, "HEAD") == third
    with pytest.raises(SourceError, match="unknown revision"):
        resolve_revision(repo, "0" * 40)


def test_working_tree_reads_the_whole_file_whatever_size_it_was_listed_with(tmp_path: Path):
    # reads are sized by the listing: a file that grew or shrank since is still read whole, to its end
    (tmp_path / "grows.yaml").write_bytes(b"a: 1\n")
    (tmp_path / "shrinks.yaml").write_bytes(b"b: 2\n" * 1000)
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "large.yaml").write_bytes(bytes(range(256)) * 1000)
    source = WorkingTreeSource(tmp_path, "customer-configs")
    assert source.files()["grows.yaml"].size == 5
    (tmp_path / "grows.yaml").write_bytes(b"a: 1\n" + b"x" * 200_000)
    (tmp_path / "shrinks.yaml").write_bytes(b"b: 2\n")
    assert source.read("grows.yaml") == b"a: 1\n" + b"x" * 200_000
    assert source.read("shrinks.yaml") == b"b: 2\n"
    assert source.read("empty.yaml") == b""
    assert source.read("large.yaml") == bytes(range(256)) * 1000
    (tmp_path / "grows.yaml").unlink()
    (tmp_path / "grows.yaml").symlink_to("shrinks.yaml")  # a link since listed: not followed
    with pytest.raises(OSError):
        source.read("grows.yaml")
