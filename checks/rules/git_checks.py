"""`git/*`: the history a pull request adds."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from checks.model.platform import CONFIGS
from checks.repo.source import SourceError, run_git
from checks.runner.registry import Check, register

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
