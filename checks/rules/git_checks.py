"""`git/*`: the history a pull request adds, and what git stores that is not a plain file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from checks.core.findings import Severity
from checks.core.text import has_unprintable
from checks.model.platform import CONFIGS
from checks.repo.documents import is_yaml_path
from checks.repo.source import symlink_problem
from checks.runner.registry import Check, Option, register
from checks.scope.selection import shard_key

if TYPE_CHECKING:
    from checks.core.findings import Finding
    from checks.runner.context import Context


@register
class UnsignedCommit(Check):
    """Opt-in: in PR mode, every commit of base..head carries a valid signature (GPG or SSH),
    as `git verify-commit` judges it with the repository's own configuration. Option
    `allowed_signers`: a file in customer-configs listing the SSH keys allowed to sign
    (git's `gpg.ssh.allowedSignersFile` format).

    Passes:   -- .gitops-checks.yaml --
              checks: {options: {git/unsigned-commit: {allowed_signers: .allowed-signers}}}
              -- .allowed-signers (signers) --
              -- pull request (signed) --      (git commit -S, with a key .allowed-signers names)
              -- customers/acme/billing/values.yaml --
              replicaCount: 3
    Fails:    -- pull request --      (git commit, no signature)
              -- customers/acme/billing/values.yaml --
              replicaCount: 3
    Fails:    -- pull request (signed) --      (a key nobody trusts: no allowed signers file)
              -- customers/acme/billing/values.yaml --
              replicaCount: 3
    """

    id = "git/unsigned-commit"
    enabled_by_default = False
    subject = "run"
    options: ClassVar[dict[str, Option]] = {
        "allowed_signers": Option(None, str, help="file of SSH keys allowed to sign, in customer-configs")}

    def run(self, ctx: Context) -> Iterator[Finding]:
        history = ctx.history
        if history is None or not history.commits:
            return
        signers_file: Path | None = None
        signers = self.config.get("allowed_signers")
        if signers:
            signers_file = history.file(str(signers))
            if signers_file is None:
                yield self.finding(f"allowed_signers file {signers!r} does not exist in customer-configs",
                                   repo=CONFIGS, discriminator="signers")
                return
        for commit in history.commits:
            verdict = history.verify(commit, signers_file)
            if verdict.ok:
                continue
            subject = history.describe(commit)
            reason = "no signature" if verdict.no_signature else "signature not valid or key not trusted"
            yield self.finding(f"commit {commit[:12]} ({subject[:120]}): {reason}", repo=CONFIGS,
                               discriminator=commit, extra={"commit": commit})


@register
class Submodule(Check):
    """Submodules (gitlinks) in either repository: ArgoCD checks them out and deploys what they
    hold, but their content is in another repository that no check here reads.

    Passes:   -- customers/acme/billing/values.yaml --   (a file of this repository)
              replicaCount: 2
    Fails:    -- customers/acme/billing/chart (submodule) --   (a gitlink: another repository's commit)
    """

    id = "git/submodule"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for repo, source in ctx.sources.items():
            for odd in source.odd_entries():
                if odd.kind == "submodule" and ctx.scope.in_shard(shard_key(repo, odd.path)):
                    yield self.finding("submodule (gitlink): its content lives in another repository and is not "
                                       "checked; ArgoCD would deploy it", repo=repo, path=odd.path)


@register
class FileName(Check):
    """File names must be UTF-8 without control characters: git stores names as bytes, and a
    name that is not text cannot be matched by ArgoCD's globs nor shown to a reviewer as it is;
    a newline or an escape sequence in a name forges lines in logs and terminals. Such a file
    is not read (names shown with `\\xNN` escapes).

    Passes:   -- customers/acme/configs/feature-flags.yaml --
              beta: true
    Fails:    -- customers/acme/configs/caf\\xe9.yaml --   (Latin-1)
              beta: true
    Fails:    -- customers/acme/configs/flags\\x0a.yaml --   (a newline)
              beta: true
    """

    id = "git/file-name"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for repo, source in ctx.sources.items():
            for odd in source.odd_entries():
                if odd.kind == "non-utf8-name" and ctx.scope.in_shard(shard_key(repo, odd.path)):
                    yield self.finding("file name is not UTF-8; the file is not read", repo=repo, path=odd.path)
            for path in source.files():
                if has_unprintable(path) and ctx.scope.in_shard(shard_key(repo, path)):
                    yield self.finding("file name holds control characters (shown escaped)", repo=repo, path=path)


@register
class Symlink(Check):
    """Symlinks of every kind of file (`.tf`, `configs/*.env`, charts...), not only YAML (which
    `yaml/symlink` reports): a link that leaves the repository or is broken. Links are never
    followed by any check; ArgoCD and Terraform would follow them on the deploying machine.

    Passes:   -- customers/acme/terraform/common.tf -> ../../../shared/terraform-modules/database/main.tf --
    Fails:    -- customers/acme/configs/app.env -> /etc/passwd --
    """

    id = "git/symlink"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for repo in ctx.sources:
            source = ctx.sources[repo]
            for path in ctx.files_in_scope(repo):
                entry = source.entry(path)
                if entry is None or not entry.is_symlink or is_yaml_path(path):
                    continue
                problem = symlink_problem(source, path)
                if problem:
                    yield self.finding(problem, repo=repo, path=path)


@register
class GateChange(Check):
    """In PR mode, a change to the gate itself: the settings file, a policy of `policies.paths`
    or the baseline. The run uses them as they are at the merge base (a pull request cannot
    switch off the check that reviews it); the finding names what the change would weaken
    once merged, so that reviewers see it. Raise it to an error in the base's settings
    (`checks.severity`) to make such changes need an explicit override.

    Passes:   -- pull request --      (values files only)
              -- customers/acme/billing/values.yaml --
              replicaCount: 3
    Fails:    -- pull request --
              -- .gitops-checks.yaml --
              checks: {disable: [secrets]}
    """

    id = "git/gate-change"
    severity = Severity.WARNING
    subject = "run"

    def run(self, ctx: Context) -> Iterator[Finding]:
        if ctx.trust is None:
            return
        for change in ctx.trust.changes:
            yield self.finding(change.message, repo=CONFIGS, path=change.path, line=change.line,
                               discriminator=change.message,
                               severity=Severity.ERROR if change.severity == "error" else None)
