"""The child process of the policy sandbox (see engines/sandbox.py): reads one JSON request on
stdin, evaluates or parses the policies under CPU and memory limits, writes JSON on stdout."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from checks.engines import rego
from checks.engines.sandbox import limit_this_process


def _serve(request: dict[str, Any]) -> Any:
    files = [rego.PolicyFile(label, Path(label), text, None) for label, text in request["policies"]]
    if request["op"] == "syntax":
        return rego.syntax_problems(files)
    policies = rego.load_policy_texts([(label, text, None) for label, text in request["policies"]])
    engine = rego.RegorusEngine(policies)
    if "texts" in request:  # each input as its JSON text (SandboxedRegorus)
        texts = request["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts")
        found = engine.evaluate_texts(texts)
    else:
        found = engine.evaluate(request["inputs"])
    return [[[r.kind, r.rule, r.message, list(r.path) if r.path is not None else None] for r in results]
            for results in found]


def main() -> int:
    limit_this_process()
    request = json.loads(sys.stdin.buffer.read())
    real_stdout = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Rego print() and any chatter: never to our caller raw
    try:
        answer = _serve(request)
    except Exception as exc:  # one line, no traceback (its text may quote input)
        os.write(real_stdout, f"error: {type(exc).__name__}\n".encode())
        return 1
    with os.fdopen(real_stdout, "w", encoding="utf-8") as out:
        json.dump(answer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
