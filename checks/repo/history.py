"""The commits a pull request adds to customer-configs, read through git: what each commit
changed, its files at that commit, its author line and whether its signature verifies."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from checks.repo.source import (
    Change,
    SourceError,
    commit_changes,
    git_environment,
    git_toplevel,
    run_git,
    run_git_status,
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    no_signature: bool  # git found no signature at all (rather than a bad or untrusted one)


class History:
    def __init__(self, root: Path, commits: list[str]) -> None:
        self.root = root
        self.commits = tuple(commits)

    def changes(self, commit: str) -> list[Change]:
        return commit_changes(self.root, commit)

    def reader(self) -> HistoryBlobs:
        """Files at any commit, size first; close it when done."""
        return HistoryBlobs(self.root)

    def file(self, relative: str) -> Path | None:
        """A file of the repository's working tree, or None if it is missing or leaves the repository."""
        path = (self.root / relative).resolve()
        return path if path.is_file() and path.is_relative_to(self.root.resolve()) else None

    def verify(self, commit: str, allowed_signers: Path | None = None) -> Verification:
        """`git verify-commit`, judged with the repository's configuration (plus an allowed-signers file)."""
        args = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
        code, stderr = run_git_status(self.root, *args, "verify-commit", commit)
        return Verification(code == 0, "no signature" in stderr.lower() or not stderr.strip())

    def describe(self, commit: str) -> str:
        """`author <email>: subject`, or "" when git cannot say."""
        try:
            return run_git(self.root, "log", "-1", "--format=%an <%ae>: %s", commit).decode().strip()
        except SourceError:
            return ""


@dataclass(frozen=True)
class Blob:
    data: bytes  # the whole file, or its first `limit` bytes
    size: int  # the whole file's size in bytes

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.size


class HistoryBlobs:
    """Files of the repository at any commit, through one `git cat-file --batch-command`: git
    tells a file's size first (`info`), and its content is asked for (`contents`) only when it
    is within the caller's limit. Of a larger file only the first `limit` bytes are read, from
    `git cat-file blob` through a pipe that is then closed: a 20 MiB blob in a PR's history
    costs this process `limit` bytes, never its size."""

    def __init__(self, root: Path) -> None:
        top = git_toplevel(root)
        if top is None:
            raise SourceError(f"{root} is not a git repository")
        self.top = top.resolve()
        relative = root.resolve().relative_to(self.top).as_posix()
        self.prefix = "" if relative == "." else relative + "/"
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(self.top), "cat-file", "--batch-command"],  # noqa: S607
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_environment())
        self._lock = threading.Lock()

    def read(self, commit: str, path: str, limit: int) -> Blob | None:
        """The file at `commit` (None when it is not a blob there), at most `limit` bytes of it."""
        spec = f"{commit}:{self.prefix}{path}"
        if "\n" in spec:  # one request a line: such a name goes through argv instead
            return self._read_alone(spec, limit)
        with self._lock:
            header = self._ask(f"info {spec}")
            if header is None:
                return None
            size = int(header[2])
            if size > limit:
                return Blob(self._head(spec, limit), size)
            header = self._ask(f"contents {spec}")
            if header is None or int(header[2]) != size:
                return None
            stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
            data = stdout.read(size)
            stdout.read(1)  # the newline after the object
            return Blob(data, size)

    def _ask(self, command: str) -> list[bytes] | None:
        """Send one command; git's header `<oid> <type> <size>`, or None for a missing object or not a blob."""
        stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
        stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
        stdin.write(command.encode("utf-8", "surrogateescape") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:  # "<name> missing" / "ambiguous": nothing more follows
            return None
        if header[1] != b"blob":
            if command.startswith("contents "):
                stdout.read(int(header[2]) + 1)
            return None
        return header

    def _head(self, spec: str, limit: int) -> bytes:
        """The first `limit` bytes of a blob; git is stopped once they are read."""
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(self.top), "cat-file", "blob", spec],  # noqa: S607
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_environment())
        try:
            stdout: IO[bytes] = proc.stdout  # type: ignore[assignment]
            return stdout.read(limit)  # into one buffer of `limit` bytes: no second copy
        finally:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def _read_alone(self, spec: str, limit: int) -> Blob | None:
        try:
            kind = run_git(self.top, "cat-file", "-t", spec).strip()
            size = int(run_git(self.top, "cat-file", "-s", spec).strip())
        except (SourceError, ValueError):
            return None
        return Blob(self._head(spec, limit), size) if kind == b"blob" else None

    def close(self) -> None:
        if self._proc.poll() is None and self._proc.stdin is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
