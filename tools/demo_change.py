"""`make demo`, second half: what the suite is for. A copy of examples/ in a temporary folder becomes a
git repository; a branch makes a change with the mistakes people make (a duplicate key, a value the
schema refuses, a typo'd product, a plaintext token) next to an ordinary release (an image tag bump);
the suite catches each at its file and line, and the effective-value diff shows what the release
reaches and who does not get it. examples/ itself is never touched.

    python tools/demo_change.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GIT_ENV = {"GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com", "GIT_COMMITTER_NAME": "demo",
           "GIT_COMMITTER_EMAIL": "demo@example.com", "GIT_CONFIG_NOSYSTEM": "1"}

# path -> (text to find, replacement): the sample change
MISTAKES = {
    "customers/acme-corp/billing/values.yaml": (
        "featureFlags:\n  newCheckout: false\n",
        "featureFlags:\n  newCheckout: false\n  newCheckout: true\n"),                # duplicate key
    "customers/globex/search/environments/prod.yaml": ("replicaCount: 3\n", "replicaCount: three\n"),  # schema
    "customers/initech/products.yaml": ("- name: billing\n", "- name: biling\n"),        # unknown product
    "products/search/base-values.yaml": ("tag: 5.2.0", "tag: 5.3.0"),                   # the release itself
}
TOKEN_FILE = ("customers/acme-corp/configs/app.env",
              "LOG_LEVEL=info\nGITHUB_TOKEN=ghp_" + "wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx\n")  # a plaintext token


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def checks(*args: str | Path) -> int:
    sys.stdout.flush()
    return subprocess.run([sys.executable, "-m", "checks", *map(str, args)], cwd=ROOT,
                          env={**os.environ, "GITOPS_CHECKS_PROGRESS_DELAY": "60"}).returncode


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gitops-checks-demo-") as tmp:
        configs = Path(tmp) / "customer-configs"
        infra = Path(tmp) / "platform-infrastructure"
        shutil.copytree(EXAMPLES / "customer-configs", configs)
        shutil.copytree(EXAMPLES / "platform-infrastructure", infra)
        git(configs, "init", "-q", "-b", "main")
        git(configs, "add", "-A")
        git(configs, "commit", "-q", "-m", "examples")
        git(configs, "checkout", "-q", "-b", "demo-change")
        for rel, (old, new) in MISTAKES.items():
            path = configs / rel
            text = path.read_text()
            if old not in text:
                print(f"demo: {rel} no longer contains {old!r}; update tools/demo_change.py", file=sys.stderr)
                return 2
            path.write_text(text.replace(old, new, 1))
        (configs / TOKEN_FILE[0]).write_text(TOKEN_FILE[1])
        git(configs, "add", "-A")
        git(configs, "commit", "-q", "-m", "demo: a release with the usual mistakes")
        banner("A pull request (branch demo-change of a copy of examples/): the suite in PR mode, --base main")
        verdict = checks("--configs", configs, "--infra", infra, "--base", "main", "--no-progress")
        banner("What the same pull request changes in the effective values (diff --base main)")
        diff = checks("diff", "--configs", configs, "--infra", infra, "--base", "main")
    if verdict != 1 or diff != 0:
        print(f"demo: expected the change to fail (exit 1) and the diff to succeed (exit 0); got {verdict} and {diff}",
              file=sys.stderr)
        return 1
    print("\ndemo: the mistakes above were caught at their file and line (exit 1 would fail the pull request); "
          "examples/ is unchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
