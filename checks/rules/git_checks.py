"""`git/*`: the history a pull request adds, and what git stores that is not a plain file."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from checks.core.findings import Severity
from checks.core.text import has_unprintable
from checks.model.platform import CONFIGS
from checks.repo.documents import is_yaml_path
from checks.repo.source import SourceError, run_git, symlink_problem
from checks.runner.registry import Check, register
from checks.scope.selection import shard_key

if TYPE_CHECKING:
    from checks.core.findings import Finding
    from checks.runner.run import Context


@register
class UnsignedCommit(Check):
    """Opt-in: in PR mode, every commit of base..head carries a valid signature (GPG or SSH),
    as `git verify-commit` judges it with the repository's own configuration. Option
    `allowed_signers`: a file in customer-configs listing the SSH keys allowed to sign
    (git's `gpg.ssh.allowedSignersFile` format).

    Passes:   git commit -S ...   (signed with a trusted key)
    Fails:    git commit ...      (no signature, or a key nobody trusts)
    """

    id = "git/unsigned-commit"
    enabled_by_default = False
    subject = "run"
    options: ClassVar[dict] = {"allowed_signers": None}

    def run(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.scope.commits or ctx.configs_root is None:
            return
        args: list[str] = []
        signers = self.config.get("allowed_signers")
        if signers:
            path = (ctx.configs_root / str(signers)).resolve()
            if not path.is_file() or not path.is_relative_to(ctx.configs_root.resolve()):
                yield self.finding(f"allowed_signers file {signers!r} does not exist in customer-configs",
                                   repo=CONFIGS, discriminator="signers")
                return
            args = ["-c", f"gpg.ssh.allowedSignersFile={path}"]
        for commit in ctx.scope.commits:
            proc = subprocess.run(  # noqa: S603 - fixed argv; the commit id comes from git rev-list
                ["git", "-C", str(ctx.configs_root), *args, "verify-commit", commit],  # noqa: S607
                capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                continue
            try:
                subject = run_git(ctx.configs_root, "log", "-1", "--format=%an <%ae>: %s", commit).decode().strip()
            except SourceError:
                subject = ""
            reason = "no signature" if "no signature" in proc.stderr.lower() or not proc.stderr.strip() \
                else "signature not valid or key not trusted"
            yield self.finding(f"commit {commit[:12]} ({subject[:120]}): {reason}", repo=CONFIGS,
                               discriminator=commit, extra={"commit": commit})


@register
class Submodule(Check):
    """Submodules (gitlinks) in either repository: ArgoCD checks them out and deploys what they
    hold, but their content is in another repository that no check here reads.

    Passes:   customers/acme/billing/values.yaml   (a file of this repository)
    Fails:    customers/acme/billing  ->  a submodule pointing at another repository's commit
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

    Passes:   customers/acme/configs/feature-flags.yaml
    Fails:    customers/acme/configs/caf\\xe9.yaml (Latin-1), or a name holding a newline
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

    Passes:   customers/acme/terraform/common.tf -> ../../../shared/terraform-modules/common.tf
    Fails:    customers/acme/configs/app.env -> /etc/passwd
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

    Passes:   a pull request that changes values files only
    Fails:    a pull request adding `checks: {disable: [secrets]}` to .gitops-checks.yaml
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
