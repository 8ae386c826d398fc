"""Repository policies evaluated in a child process with CPU-time and memory limits.

Rego from customer-configs is code from the repository: a recursive function segfaults the
Regorus bindings, a loop never ends, a comprehension eats the memory. In the child, the
worst it can do is die; the parent turns that into an `EngineError` (a `policy/engine`
finding) and the run completes. The child gets no environment (no token, no secrets in
variables), its `print()` output is dropped, and its answers are plain JSON.

Parent side: `run_in_sandbox(request)` (here); child side: `python -m checks.engines.rego_child`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

from checks.core.settings import env

CPU_SECONDS = int(env("GITOPS_CHECKS_POLICY_CPU_SECONDS") or "120")
MEMORY_BYTES = int(env("GITOPS_CHECKS_POLICY_MEMORY_MB") or "2048") * 1024 * 1024


class SandboxError(Exception):
    """The child died, ran out of time or memory, or answered nonsense."""


def run_in_sandbox(request: dict[str, Any], cpu_seconds: int = CPU_SECONDS,
                   memory_bytes: int = MEMORY_BYTES) -> Any:
    env = {"PATH": os.defpath, "LC_ALL": "C.UTF-8", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
           "GITOPS_CHECKS_POLICY_CPU_SECONDS": str(cpu_seconds), "GITOPS_CHECKS_POLICY_MEMORY_MB":
           str(max(1, memory_bytes // (1024 * 1024)))}
    try:
        proc = subprocess.run(  # fixed argv: this interpreter and this module
            [sys.executable, "-m", "checks.engines.rego_child"], input=json.dumps(request, default=str).encode(),
            capture_output=True, env=env, timeout=cpu_seconds * 2 + 30, check=False)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"the policy engine did not finish within {cpu_seconds * 2 + 30} s") from None
    except OSError as exc:
        raise SandboxError(f"the policy engine could not start: {type(exc).__name__}") from None
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name if -proc.returncode in signal.valid_signals() else "a signal"
        why = {"SIGXCPU": f"used its {cpu_seconds} s of CPU time (a loop?)", "SIGKILL": "was killed (limits)",
               "SIGSEGV": "crashed (a policy that recurses without end?)",
               "SIGABRT": f"ran out of its {memory_bytes // (1024 * 1024)} MiB of memory, or aborted"}.get(sig, "died")
        raise SandboxError(f"the policy engine process {why}: {sig}")
    if proc.returncode != 0:
        last = proc.stdout.decode("utf-8", "replace").strip().splitlines()
        reason = last[-1][:300] if last and last[-1].startswith("error:") else f"exit code {proc.returncode}"
        raise SandboxError(f"the policy engine failed: {reason}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise SandboxError("the policy engine answered something that is not JSON") from None


def limit_this_process() -> None:
    """In the child, first thing: the limits the parent passed in the environment."""
    import resource


    cpu = int(env("GITOPS_CHECKS_POLICY_CPU_SECONDS") or str(CPU_SECONDS))
    memory = int(env("GITOPS_CHECKS_POLICY_MEMORY_MB") or "2048") * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
