"""The commits a pull request adds to customer-configs, read through git: what each commit
changed, its files at that commit, its author line and whether its signature verifies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checks.repo.source import BlobReader, Change, SourceError, commit_changes, run_git, run_git_status


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

    def reader(self) -> BlobReader:
        """Files at any commit through one `git cat-file --batch`; close it when done."""
        return BlobReader(self.root)

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
