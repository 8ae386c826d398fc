"""The progress bar: drawn on a terminal (a real pseudo-terminal here), never in a log."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time

from helpers import EXAMPLES, GIT_ENV, ROOT, run_cli

ARGS = ["--configs", str(EXAMPLES / "customer-configs"), "--infra", str(EXAMPLES / "platform-infrastructure")]


def run_on_terminal(*extra: str) -> tuple[int, str]:
    """The CLI with stdout and stderr on a pseudo-terminal, as on a laptop; everything it drew."""
    master, slave = pty.openpty()
    env = dict(os.environ, **GIT_ENV, TERM="xterm-256color", GITOPS_CHECKS_PROGRESS_DELAY="0", COLUMNS="120")
    proc = subprocess.Popen([sys.executable, "-m", "checks", *ARGS, *extra], stdin=slave, stdout=slave,
                            stderr=slave, cwd=ROOT, env=env)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_a_bar_of_files_units_and_checks():
    code, screen = run_on_terminal()
    assert code == 0, screen[-2000:]
    for label in ("files", "units", "checks"):
        assert re.search(rf"{label}\s.*?\d+/\d+", screen), f"no {label} progress drawn: {screen[-1500:]!r}"
    assert "gitops-checks passed" in screen


def test_no_progress_turns_it_off_on_a_terminal():
    code, screen = run_on_terminal("--no-progress")
    assert code == 0
    assert not re.search(r"units\s.*?\d+/\d+", screen), screen[-1500:]
    assert "gitops-checks passed" in screen


def test_a_log_gets_only_the_summary():
    proc = run_cli(*ARGS, env={"GITOPS_CHECKS_PROGRESS_DELAY": "0"})
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout and not re.search(r"units\s.*?\d+/\d+", proc.stdout)
    assert proc.stdout.strip().splitlines()[-1].startswith("gitops-checks passed")
