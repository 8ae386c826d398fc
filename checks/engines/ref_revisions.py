"""customer-configs at the revisions multi-source `$values` refs name: ArgoCD reads an
Application's `$values/...` files at the `targetRevision` of the source with that `ref`, so a
staging Application reading its values from `main` deploys main's values, whatever the tree
being checked holds.

The tree checked stands for one branch (`appsets.branch`, default `main`; `GITOPS_CHECKS_BRANCH`):
what a change will deploy once merged there. A ref naming that branch, `HEAD` or nothing reads
the tree checked; any other revision is read from customer-configs' git (the name, else
`origin/NAME` as a CI clone has it). A revision git does not have is a problem to report,
never a silent fallback to the tree checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from checks.repo.documents import DocumentStore, Limits
from checks.repo.source import GitSource, Source, SourceError, git_toplevel, resolve_revision

CHECKED_TREE_REVISIONS = ("", "HEAD")


def is_checked_tree(revision: str | None, branch: str) -> bool:
    """Whether a ref's targetRevision reads the tree being checked."""
    name = (revision or "").strip()
    return name in CHECKED_TREE_REVISIONS or name in (branch, f"refs/heads/{branch}")


@dataclass
class RevisionStores:
    """One DocumentStore per revision a ref names, opened once per run (parses shared by blob id)."""

    source: Source  # customer-configs as checked
    repo: str
    limits: Limits
    shared: dict | None = None  # the checked store's parse cache: unchanged files are parsed once
    _stores: dict[str, tuple[DocumentStore | None, str]] = field(default_factory=dict)

    def store(self, revision: str) -> tuple[DocumentStore | None, str]:
        """(store, "") for a revision git has, else (None, why not)."""
        if revision not in self._stores:
            self._stores[revision] = self._open(revision)
        return self._stores[revision]

    def _open(self, revision: str) -> tuple[DocumentStore | None, str]:
        root = getattr(self.source, "root", None)
        top = git_toplevel(root) if isinstance(root, Path) else None
        if root is None or top is None:
            return None, f"{self.repo} is not a git repository here, so revision {revision!r} cannot be read"
        name = revision.removeprefix("refs/heads/")
        for candidate in (revision, f"origin/{name}", f"refs/remotes/origin/{name}"):
            try:
                commit = resolve_revision(top, candidate)
            except SourceError:
                continue
            try:
                source = GitSource(root, self.repo, commit)
            except SourceError as exc:
                return None, str(exc)
            return DocumentStore({self.repo: source}, self.limits, self.shared), ""
        return None, (f"revision {revision!r} is not in {self.repo}'s git here (neither {revision} nor "
                      f"origin/{name}): fetch it, or the values it deploys are not checked")

    def close(self) -> None:
        for store, _ in self._stores.values():
            if store is not None:
                for source in store.sources.values():
                    source.close()
