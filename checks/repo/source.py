"""A repository at one revision: the working tree, or a git revision read without a checkout.

Git revisions are read through one long-lived `git cat-file --batch` process
(the pre-commit way: thin, typed wrappers around git), never one process per file.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from checks.core.text import printable
from checks.repo import listing_prefetch


class SourceError(Exception):
    """The repository or revision cannot be read at all (exit 2)."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the repo root, forward slashes
    size: int
    symlink_target: str | None = None  # set for symlinks, relative or absolute as stored
    blob: str | None = None  # git blob id when read from git

    @property
    def is_symlink(self) -> bool:
        return self.symlink_target is not None


@dataclass(frozen=True)
class OddEntry:
    """Something in the tree no check reads as a file: a submodule (gitlink), or a name that is
    not UTF-8 (left out of `files()`, so nothing downstream meets undecodable text)."""

    kind: str  # "submodule" or "non-utf8-name"
    path: str  # as printable text (undecodable bytes as \\xNN)


def _utf8_name(name: str) -> bool:
    """A name decoded with surrogateescape that held bytes that are not UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Source(Protocol):
    name: str  # "customer-configs" or "platform-infrastructure"
    root: Path

    @property
    def revision(self) -> str | None: ...  # None for the working tree

    def files(self) -> dict[str, FileEntry]: ...
    def entry(self, path: str) -> FileEntry | None: ...
    def subdirs(self, prefix: str) -> set[str]: ...
    def read(self, path: str) -> bytes: ...
    def read_many(self, paths: list[str]) -> dict[str, bytes]: ...  # the readable ones; errors left out
    def odd_entries(self) -> list[OddEntry]: ...  # after files(): submodules and undecodable names
    def close(self) -> None: ...


# What git exports to the hooks it runs (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE...) would point our
# calls at the hook's repository and index instead of the one we name: every git call runs without
# them, keeping only what tells git how to run or reach a remote (as pre-commit's `no_git_env` does).
_KEPT_GIT_VARIABLES = frozenset({
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY", "GIT_CONFIG_COUNT",
    "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS",
})


def git_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items()
            if not k.startswith("GIT_") or k in _KEPT_GIT_VARIABLES
            or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))}


def run_git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    """Run git with fixed arguments (never a shell); raise SourceError with git's own words."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a user runs it
            input=input_bytes,
            capture_output=True,
            check=False,
            env=git_environment(),
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed or not on PATH") from exc
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git {' '.join(args[:2])} failed in {repo}: {msg[-1] if msg else 'unknown error'}")
    return proc.stdout


def run_git_status(repo: Path, *args: str) -> tuple[int, str]:
    """Run git for its verdict: the exit code and what it said on stderr."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(repo), *args],  # noqa: S607
            capture_output=True, text=True, check=False, env=git_environment())
    except FileNotFoundError as exc:
        raise SourceError("git is not installed or not on PATH") from exc
    return proc.returncode, proc.stderr


# What git answers once for good, remembered for the process: a PR run asked the same questions
# up to seven times (one git process each). Names (HEAD, a branch) are never remembered: they move.
_TOPLEVELS: dict[str, Path] = {}  # folder -> its work tree's top (a folder that is in one stays so)
_COMMITS: dict[tuple[str, str], str] = {}  # (repository, full object name) -> the commit it names
_MERGE_BASES: dict[tuple[str, str, str], str] = {}  # (repository, commit, commit) -> their merge base
_OBJECT_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def git_toplevel(path: Path) -> Path | None:
    key = os.path.abspath(path)
    if key in _TOPLEVELS:
        return _TOPLEVELS[key]
    try:
        out = run_git(path, "rev-parse", "--show-toplevel")
    except SourceError:
        return None
    top = _TOPLEVELS[key] = Path(out.decode().strip())
    return top


def resolve_revision(repo: Path, rev: str) -> str:
    if rev.startswith("-"):
        raise SourceError(f"invalid revision {rev!r}")
    key = (os.path.abspath(repo), rev)
    if key in _COMMITS:
        return _COMMITS[key]
    try:
        out = run_git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except SourceError:
        raise SourceError(f"unknown revision {rev!r} in {repo}") from None
    commit = out.decode().strip()
    if _OBJECT_NAME.fullmatch(rev):  # an object's full name always names the same commit
        _COMMITS[key] = commit
    return commit


# `git ls-files -z --stage`: "<mode> <blob> <stage>\t<path>\0", under customers/{customer}/
_INDEX_RECORD = re.compile(r"(\d{6}) [0-9a-f]+ \d\t(customers/([^/\0]*)/[^\0]*)\0")


class _IndexedFile(FileEntry):
    """A regular file listed from git's index, not from the disk: its size is read from the disk
    when first asked for (as the walk would have stat'ed it), since nobody asks for most of them."""

    def __init__(self, path: str, root: str) -> None:  # not the dataclass __init__: no size yet
        self.__dict__.update(path=path, symlink_target=None, blob=None, _root=root)  # frozen: not by setattr

    @property
    def size(self) -> int:
        size = self.__dict__.get("_size")
        if size is None:
            try:
                size = os.lstat(os.path.join(self.__dict__["_root"], self.path)).st_size
            except OSError:  # gone since git listed it: reading it fails the same way
                size = 0
            self.__dict__["_size"] = size
        return size


def _listing_of(root: str) -> tuple[list[tuple[str, int, str | None]], list[tuple[str, str]]]:
    """A tree's walk as plain tuples (in a listing child: sent through a pipe)."""
    entries, odd = WorkingTreeSource(Path(root), "listing")._walk(None)
    return [(e.path, e.size, e.symlink_target) for e in entries.values()], [(o.kind, o.path) for o in odd]


def _prefetched(root: str) -> tuple[dict[str, FileEntry], list[OddEntry]] | None:
    answer = listing_prefetch.take(root)
    if answer is None:
        return None
    files: list[tuple[str, int, str | None]]
    odd: list[tuple[str, str]]
    files, odd = answer  # type: ignore[misc]
    return {path: FileEntry(path, size, target) for path, size, target in files}, [OddEntry(k, p) for k, p in odd]


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 16


class WorkingTreeSource:
    """Files as they are on disk, .git excluded."""

    def __init__(self, root: Path, name: str) -> None:
        if not root.is_dir():
            raise SourceError(f"{name}: {root} is not a directory")
        self.root = root.resolve()
        self.name = name
        self.revision: str | None = None
        self._files: dict[str, FileEntry] | None = None
        self._odd: list[OddEntry] = []
        self._walked_customers: set[str] | None = None  # None: every folder is walked
        self._from_index = False  # some customers' files were listed from git's index
        self._index_utf8 = True  # every name in the index is UTF-8
        self._subdirs: dict[str, set[str]] = {}
        self._safe_folders: dict[str, bool] = {}

    def odd_entries(self) -> list[OddEntry]:
        self.files()
        return self._odd

    def walk_customers_only(self, customers: set[str]) -> None:
        """List only these customers' folders from the disk, and every other customer's files from
        git's index (the files git tracks, as they are on disk now), before anything lists the tree.

        For a run scoped to some customers (pre-commit's `--files`): walking 13,000 folders of
        1,000 customers costs more than the rest of such a run. What the other customers hold
        is still listed -- checks that compare across customers (Terraform state keys, generated
        Application names, file names) see them -- except files git does not track there
        (untracked or ignored), which no commit of this change carries. Outside a git work tree,
        or when git cannot list its index, the whole tree is walked as before."""
        if self._files is None:
            self._walked_customers = set(customers)

    def files(self) -> dict[str, FileEntry]:
        if self._files is None:
            listed = None if self._walked_customers is not None else _prefetched(str(self.root))
            if listed is None:
                from_index = self._index_customers() if self._walked_customers is not None else None
                listed = self._walk(from_index)
            entries, odd = listed
            self._odd = sorted(set(odd), key=lambda o: o.path)
            self._files = entries
        return self._files

    def _walk(self, from_index: dict[str, list[tuple[str, str]]] | None) -> tuple[dict[str, FileEntry],
                                                                                  list[OddEntry]]:
        """Every file under the root, .git excluded, in sorted walk order; the customers named in
        `from_index` listed from git's index instead (walk_customers_only)."""
        odd: list[OddEntry] = []
        # scandir with plain strings: pathlib objects per file cost more than the stat calls
        entries: dict[str, FileEntry] = {}
        pending = [("", str(self.root))]
        while pending:
            rel_dir, full_dir = pending.pop()
            with os.scandir(full_dir) as listing:
                children = sorted(listing, key=lambda e: e.name)
            for child in children:
                rel = rel_dir + child.name
                if not _utf8_name(child.name):
                    odd.append(OddEntry("non-utf8-name", printable(rel)))
                    continue
                if child.is_dir(follow_symlinks=False):
                    if from_index is not None and rel_dir == "customers/" and child.name in from_index \
                            and child.name not in self._walked_customers:  # type: ignore[operator]
                        # (a customer git tracks nothing of, not yet added, is walked)
                        self._list_indexed(from_index[child.name], entries, odd)
                    elif child.name != ".git":
                        pending.append((rel + "/", child.path))
                    elif rel_dir:  # a checked-out submodule (or a nested repository)
                        odd.append(OddEntry("submodule", printable(rel_dir.rstrip("/"))))
                elif child.name == ".git" and rel_dir:  # a submodule's `.git` file
                    odd.append(OddEntry("submodule", printable(rel_dir.rstrip("/"))))
                elif child.is_symlink():
                    entries[rel] = FileEntry(rel, 0, symlink_target=os.readlink(child.path))
                elif child.is_file(follow_symlinks=False):
                    entries[rel] = FileEntry(rel, child.stat(follow_symlinks=False).st_size)
        return entries, odd

    @staticmethod
    def start_listing(root: Path) -> None:
        """Begin listing the working tree at `root` in a child process (repo/listing_prefetch.py),
        for the `files()` of this process's source of it."""
        listing_prefetch.start(str(root.resolve()), _listing_of)

    def _index_customers(self) -> dict[str, list[tuple[str, str]]] | None:
        """customer -> (mode, path) of every file git's index holds under customers/{customer}/,
        paths relative to the root; None when git cannot say (not a work tree, no git, an index
        listing this does not read)."""
        try:
            out = run_git(self.root, "ls-files", "-z", "--stage", "--", "customers/")
        except SourceError:
            return None
        try:
            text, self._index_utf8 = out.decode("utf-8"), True
        except UnicodeDecodeError:
            text, self._index_utf8 = out.decode("utf-8", "surrogateescape"), False
        records = _INDEX_RECORD.findall(text)
        if len(records) != text.count("\0"):  # a record not understood: walk rather than guess
            return None
        by_customer: dict[str, list[tuple[str, str]]] = {}
        for mode, path, customer in records:
            if customer in by_customer:
                by_customer[customer].append((mode, path))
            else:
                by_customer[customer] = [(mode, path)]
        return by_customer

    def _list_indexed(self, indexed: list[tuple[str, str]], entries: dict[str, FileEntry],
                      odd: list[OddEntry]) -> None:
        """A customer's index entries as the walk lists files: no folder is opened and no file
        stat'ed (that is the cost this avoids; a size is read when asked for); reads check the
        folders on the way (`read`). A tracked file deleted on disk is listed, and fails to read."""
        root = str(self.root)
        for mode, rel in indexed:
            if mode == "160000":  # a gitlink: a submodule when it is checked out
                if os.path.lexists(os.path.join(self.root, rel, ".git")):
                    odd.append(OddEntry("submodule", printable(rel)))
                continue
            if not self._index_utf8 and not _utf8_name(rel):
                odd.append(OddEntry("non-utf8-name", printable(rel)))
                continue
            if mode == "120000":
                try:
                    entries[rel] = FileEntry(rel, 0, symlink_target=os.readlink(os.path.join(self.root, rel)))
                except OSError:  # no longer a link on disk: not listed, as the walk would not see it as one
                    continue
            else:
                entries[rel] = _IndexedFile(rel, root)
        self._from_index = True

    def _inside_walk(self, path: str) -> bool:
        """Whether the folders on the way to a listed file were walked (or, for a file listed from
        the index, are real folders now: none replaced by a link leading out of the repository)."""
        if not self._from_index or not path.startswith("customers/"):
            return True
        parts = path.split("/")
        if parts[1] in (self._walked_customers or ()):
            return True
        for k in range(2, len(parts)):
            folder = "/".join(parts[:k])
            safe = self._safe_folders.get(folder)
            if safe is None:
                full = os.path.join(self.root, folder)
                safe = self._safe_folders[folder] = not os.path.islink(full) and os.path.isdir(full)
            if not safe:
                return False
        return True

    def entry(self, path: str) -> FileEntry | None:
        """One file, without walking the tree when nobody has listed it yet (the `values` command)."""
        if self._files is not None:
            return self._files.get(path)
        parts = path.split("/")
        if not path or ".." in parts or "" in parts or parts[0] == ".git":
            return None
        current = str(self.root)
        for part in parts[:-1]:  # as the walk: linked folders are not entered
            current = os.path.join(current, part)
            if os.path.islink(current) or not os.path.isdir(current):
                return None
        full = os.path.join(current, parts[-1])
        try:
            st = os.lstat(full)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return FileEntry(path, 0, symlink_target=os.readlink(full))
        return FileEntry(path, st.st_size) if stat.S_ISREG(st.st_mode) else None

    def subdirs(self, prefix: str) -> set[str]:
        if self._files is not None:
            return _subdirs_of(self._files, prefix, self._subdirs)
        base = self.root / prefix
        if base.is_symlink() or not base.is_dir():
            return set()
        with os.scandir(base) as it:
            return {e.name for e in it if e.is_dir(follow_symlinks=False) and e.name != ".git"
                    and _utf8_name(e.name)}

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        out = {}
        for path in paths:
            try:
                out[path] = self.read(path)
            except (OSError, SourceError):
                continue
        return out

    def read(self, path: str) -> bytes:
        entry = self.entry(path)
        # Only listed regular files are read: os.walk does not descend into linked folders
        # and file links are resolved (or refused) by the caller, so nothing here leaves the repo.
        if entry is None or entry.is_symlink or not self._inside_walk(path):
            raise SourceError(f"{path} is not a regular file of the repository")
        # O_NOFOLLOW (where the system has it): a file that became a link since it was listed is not followed
        fd = os.open(os.path.join(self.root, path), _READ_FLAGS)
        try:
            # os.read straight into bytes, sized by the listing (no file object, no fstat): every file
            # of a run is read here. Read on to the end: the file may have grown since it was listed.
            data = os.read(fd, entry.size + 1)
            if data:
                chunks = [data]
                while chunk := os.read(fd, _CHUNK):
                    chunks.append(chunk)
                if len(chunks) > 1:
                    data = b"".join(chunks)
        finally:
            os.close(fd)
        return data

    def close(self) -> None:
        pass


class _CatFile:
    """One `git cat-file --batch` process, shared by all reads of a repo."""

    def __init__(self, repo: Path) -> None:
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv
            ["git", "-C", str(repo), "cat-file", "--batch"],  # noqa: S607
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_environment(),
        )
        self._lock = threading.Lock()

    def read(self, object_id: str) -> bytes:
        with self._lock:
            stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
            stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
            stdin.write(object_id.encode() + b"\n")
            stdin.flush()
            header = stdout.readline().split()
            if len(header) != 3:  # "<name> missing": nothing more to read for this request
                raise SourceError(f"git cat-file: object {object_id} missing")
            size = int(header[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after the object
            return data

    def read_many(self, object_ids: list[str]) -> list[bytes | None]:
        """Many objects in one pipelined exchange (no round trip per object); None for a missing one.
        A thread writes the requests while this one reads, so neither pipe can fill and block."""
        with self._lock:
            stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
            stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]

            def write() -> None:
                stdin.write(b"".join(oid.encode() + b"\n" for oid in object_ids))
                stdin.flush()

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            out: list[bytes | None] = []
            for _ in object_ids:
                header = stdout.readline().split()
                if len(header) != 3:
                    out.append(None)
                    continue
                out.append(stdout.read(int(header[2])))
                stdout.read(1)
            writer.join()
            return out

    def close(self) -> None:
        if self._proc.poll() is None and self._proc.stdin is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=10)


# `git ls-tree -l -z`: "<mode> <type> <object>  <size>\t<path>\0" (size "-" for trees and gitlinks)
_TREE_RECORD = re.compile(r"(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t([^\0]*)\0")
# single look-ups (one git process each) before a GitSource lists its whole tree instead
_LOOKUPS_BEFORE_LISTING = 4


class GitSource:
    """A repository at a git revision, read with ls-tree and one cat-file process."""

    def __init__(self, root: Path, name: str, revision: str) -> None:
        top = git_toplevel(root) if root.is_dir() else None
        if top is None:
            raise SourceError(f"{name}: {root} is not a git repository (needed to read revision {revision!r})")
        self.root = root.resolve()
        self.top = top.resolve()
        # The repo may live in a sub-folder of a git work tree (as examples/ does here).
        self.prefix = _prefix(self.top, self.root)
        self.name = name
        self.revision = resolve_revision(self.top, revision)
        self._files: dict[str, FileEntry] | None = None
        self._odd: list[OddEntry] = []
        self._cat: _CatFile | None = None
        self._looked_up: dict[str, FileEntry | None] = {}  # entry() before the listing
        self._subdirs: dict[str, set[str]] = {}

    def odd_entries(self) -> list[OddEntry]:
        self.files()
        return self._odd

    def files(self) -> dict[str, FileEntry]:
        if self._files is None:
            args = ["ls-tree", "-r", "-l", "-z", "--full-tree", self.revision]
            if self.prefix:
                args += ["--", self.prefix]
            self._files, self._odd = self._entries(run_git(self.top, *args))
        return self._files

    def _entries(self, out: bytes) -> tuple[dict[str, FileEntry], list[OddEntry]]:
        """`git ls-tree -l -z` output as entries (paths relative to the root) and odd entries."""
        try:  # one decode for the whole listing; names that are not UTF-8 are rare
            text, utf8 = out.decode("utf-8"), True
        except UnicodeDecodeError:
            text, utf8 = out.decode("utf-8", "surrogateescape"), False
        odd: list[OddEntry] = []
        entries: dict[str, FileEntry] = {}
        cut = len(self.prefix)
        for mode, otype, oid, size, full_path in _TREE_RECORD.findall(text):
            path = full_path[cut:].lstrip("/") if cut else full_path
            if otype == "commit":  # a gitlink: ArgoCD checks it out, nobody here reads it
                odd.append(OddEntry("submodule", printable(path)))
                continue
            if otype != "blob":
                continue
            if not utf8 and not _utf8_name(path):
                odd.append(OddEntry("non-utf8-name", printable(path)))
                continue
            if mode == "120000":
                target = self._cat_file().read(oid).decode("utf-8", "surrogateescape")
                entries[path] = FileEntry(path, 0, symlink_target=target, blob=oid)
            else:
                entries[path] = FileEntry(path, int(size), blob=oid)
        return entries, odd

    def entry(self, path: str) -> FileEntry | None:
        """One file. Before anything lists the tree, the first few are looked up one by one (what PR
        mode reads at the merge base -- the settings file, the baseline -- needs no listing of it)."""
        if self._files is not None:
            return self._files.get(path)
        if path in self._looked_up:
            return self._looked_up[path]
        parts = path.split("/")
        if not path or "" in parts or "." in parts or ".." in parts:
            return None
        if len(self._looked_up) >= _LOOKUPS_BEFORE_LISTING:
            return self.files().get(path)
        out = run_git(self.top, "--literal-pathspecs", "ls-tree", "-l", "-z", "--full-tree", self.revision, "--",
                      self.prefix + path)
        found = self._entries(out)[0].get(path)
        self._looked_up[path] = found
        return found

    def subdirs(self, prefix: str) -> set[str]:
        return _subdirs_of(self.files(), prefix, self._subdirs)

    def _cat_file(self) -> _CatFile:
        if self._cat is None:
            self._cat = _CatFile(self.top)
        return self._cat

    def read(self, path: str) -> bytes:
        entry = self.entry(path)
        if entry is None or entry.blob is None:
            raise SourceError(f"{path} does not exist at {self.revision[:12]}")
        if entry.is_symlink:
            raise SourceError(f"{path} is a symlink")
        return self._cat_file().read(entry.blob)

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """The regular files among `paths`, read in one exchange with git."""
        entries = [(p, self.files().get(p)) for p in paths]
        wanted = [(p, e.blob) for p, e in entries if e is not None and e.blob is not None and not e.is_symlink]
        data = self._cat_file().read_many([blob for _, blob in wanted]) if wanted else []
        return {p: d for (p, _), d in zip(wanted, data, strict=True) if d is not None}

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None


def symlink_problem(source: Source, path: str, max_hops: int = 8) -> str | None:
    """Why the symlink at `path` must not be followed (it leaves the repository, loops or is
    broken), or None when it ends at a file of the repository. Resolved on git's stored targets,
    never on the file system."""
    entry = source.entry(path)
    real, hops = path, 0
    while entry is not None and entry.is_symlink:
        target = entry.symlink_target or ""
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(real), target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            return f"symlink to {printable(target)!r} leaves the repository; not followed"
        hops += 1
        if hops > max_hops:
            return f"symlink to {printable(target)!r}: more than {max_hops} links in a row; not followed"
        real = resolved
        entry = source.entry(real)
        if entry is None and not any(p.startswith(real + "/") for p in source.files()):  # nor a folder
            return f"symlink to {printable(target)!r} is broken"
    return None


def _subdirs_of(files: dict[str, FileEntry], prefix: str, memo: dict[str, set[str]]) -> set[str]:
    """Names of the folders directly under `prefix` that hold at least one file (remembered in
    `memo`: a listing does not change, and layout checks and the model ask for the same ones)."""
    prefix = prefix.rstrip("/") + "/"
    if prefix not in memo:
        n = len(prefix)
        memo[prefix] = {path[n:end] for path in files if path.startswith(prefix) and (end := path.find("/", n)) >= 0}
    return set(memo[prefix])


def _prefix(top: Path, root: Path) -> str:
    rel = root.relative_to(top).as_posix()
    return "" if rel == "." else rel + "/"


def open_source(root: Path, name: str, revision: str | None) -> Source:
    if not root.exists():
        raise SourceError(f"{name}: {root} does not exist")
    if revision is None:
        return WorkingTreeSource(root, name)
    return GitSource(root, name, revision)


@dataclass(frozen=True)
class Change:
    status: str  # A, M, D, R (rename), C, T
    path: str  # the path at head (the old path for deletions)
    old_path: str | None = None  # for renames and copies


def merge_base(repo: Path, base: str, head: str | None) -> str:
    base_sha = resolve_revision(repo, base)
    head_sha = resolve_revision(repo, head or "HEAD")
    key = (os.path.abspath(repo), base_sha, head_sha)
    if key not in _MERGE_BASES:
        try:
            _MERGE_BASES[key] = run_git(repo, "merge-base", base_sha, head_sha).decode().strip()
        except SourceError:
            raise SourceError(f"{base!r} and {head or 'HEAD'!r} have no common ancestor in {repo}") from None
    return _MERGE_BASES[key]


def _name_status(out: bytes) -> list[Change]:
    """`git diff --name-status -z` output as changes (renames and copies carry the old path)."""
    fields = [f.decode("utf-8", "surrogateescape") for f in out.split(b"\0")]
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        if code in "RC":
            changes.append(Change(code, fields[i + 2], old_path=fields[i + 1]))
            i += 3
        else:
            changes.append(Change(code, fields[i + 1]))
            i += 2
    return changes


def diff_paths(repo: Path, base_rev: str, head: str | None) -> list[Change]:
    """What differs between one revision and head (a revision, or the working tree)."""
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", "--relative", base_rev]
    if head is not None:
        top = git_toplevel(repo)
        args.append(resolve_revision(top or repo, head))
    changes = _name_status(run_git(repo, *args))
    if head is None:
        untracked = run_git(repo, "ls-files", "--others", "--exclude-standard", "-z")
        changes += [Change("A", raw.decode("utf-8", "surrogateescape")) for raw in untracked.split(b"\0") if raw]
    return changes


def changed_paths(repo: Path, base: str, head: str | None) -> list[Change]:
    """What base...head changes: from the merge base to head (a revision, or the working tree)."""
    top = git_toplevel(repo)
    if top is None:
        raise SourceError(f"{repo} is not a git repository (needed for --base)")
    return diff_paths(repo, merge_base(top.resolve(), base, head), head)


def commits_between(repo: Path, base: str, head: str | None) -> list[str]:
    """Commits in merge-base..head, oldest first (head = HEAD when the working tree is checked)."""
    top = git_toplevel(repo)
    if top is None:
        raise SourceError(f"{repo} is not a git repository (needed for --base)")
    mb = merge_base(top, base, head)
    tip = resolve_revision(top, head or "HEAD")
    out = run_git(top, "rev-list", "--reverse", f"{mb}..{tip}")
    return out.decode().split()


def commit_changes(repo: Path, commit: str) -> list[Change]:
    """Files a commit adds or modifies (against its first parent), relative to `repo`."""
    return _name_status(run_git(repo, "diff-tree", "-r", "--no-commit-id", "--name-status", "-z", "--relative",
                                "--root", "-M", commit))


class BlobReader:
    """Files of `repo` at any commit, through one `git cat-file --batch`."""

    def __init__(self, repo: Path) -> None:
        top = git_toplevel(repo)
        if top is None:
            raise SourceError(f"{repo} is not a git repository")
        self.prefix = _prefix(top.resolve(), repo.resolve())
        self._cat = _CatFile(top)

    def read(self, commit: str, path: str) -> bytes | None:
        try:
            return self._cat.read(f"{commit}:{self.prefix}{path}")
        except SourceError:
            return None

    def close(self) -> None:
        self._cat.close()
