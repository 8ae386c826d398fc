#!/usr/bin/env python3
"""A STAND-IN for conftest, used by the tests because conftest is not installable from this
machine's package registries. It is not conftest. It implements only what the suite calls --
`conftest test --output json --no-fail --all-namespaces --policy DIR... FILE...` -- and prints
conftest's documented JSON output shape:

  [{"filename": ..., "namespace": ..., "successes": N,
    "failures": [{"msg": ..., "metadata": {...}}], "warnings": [...], "exceptions": [...]}]

Rules are evaluated with the Regorus interpreter, independently of gitops-checks' own
engine code. `--capabilities FILE` is required, as the suite must always pass it: without it,
or with a file that still offers a builtin reaching the network or the environment (REACHING),
the stand-in exits 2. A policy calling a builtin the file leaves out fails to compile, as OPA
reports it ("rego_type_error: undefined function http.send"), exit 1.
CONFTEST_FAKE_MODE=exit2|garbage|nonlist simulates conftest misbehaving; env reports the names of
the environment conftest runs with (what `opa.runtime().env` would show a policy).
"""

import json
import os
import re
import sys
from pathlib import Path

import regorus

REACHING = ("http.send", "net.lookup_ip_addr", "opa.runtime")  # the network, the process environment


def capabilities_problem(argv: list[str]) -> str | None:
    """Why the --capabilities given would let a policy reach out, or None."""
    if "--capabilities" not in argv[:-1]:
        return "--capabilities not given: every builtin (http.send, opa.runtime) would be allowed"
    path = Path(argv[argv.index("--capabilities") + 1])
    try:
        builtins = {b["name"] for b in json.loads(path.read_text())["builtins"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"capabilities file {path} unreadable: {exc}"
    allowed = [name for name in REACHING if name in builtins]
    if allowed:
        return f"capabilities file {path} allows {', '.join(allowed)}"
    return None


def undefined_functions(text: str, builtins: set[str]) -> list[str]:
    """Calls of REACHING builtins that the capabilities leave out (OPA's compiler refuses them)."""
    return [name for name in REACHING if name not in builtins and re.search(rf"\b{re.escape(name)}\s*\(", text)]


def main(argv: list[str]) -> int:
    mode = os.environ.get("CONFTEST_FAKE_MODE", "")
    problem = capabilities_problem(argv)
    if problem:
        print(f"fake conftest: {problem}", file=sys.stderr)
        return 2
    if mode == "exit2":
        print("Error: running test: load: loading policies: 1 error occurred: rego_parse_error", file=sys.stderr)
        return 2
    if mode == "garbage":
        print("this is not json")
        return 0
    if mode == "nonlist":
        print('{"unexpected": true}')
        return 0
    assert argv[0] == "test", argv
    policies, files, i = [], [], 1
    while i < len(argv):
        if argv[i] == "--policy":
            policies.append(argv[i + 1])
            i += 2
        elif argv[i] in ("--output", "--capabilities"):
            i += 2
        elif argv[i].startswith("--"):
            i += 1
        else:
            files.append(argv[i])
            i += 1
    allowed = {b["name"] for b in json.loads(Path(argv[argv.index("--capabilities") + 1]).read_text())["builtins"]}
    engine = regorus.Engine()
    namespaces = set()
    for directory in policies:
        for path in sorted(Path(directory).glob("*.rego")):
            if path.name.endswith("_test.rego"):
                continue
            text = path.read_text()
            for name in undefined_functions(text, allowed):
                print(f"Error: running test: load: loading policies: get compiler: 1 error occurred: {path}: "
                      f"rego_type_error: undefined function {name}", file=sys.stderr)
                return 1
            namespaces.add(re.search(r"^package\s+([\w.]+)", text, re.M).group(1))
            engine.add_policy(str(path), text)
    out = []
    for name in files:
        engine.set_input_json(Path(name).read_text())
        for ns in sorted(namespaces):
            value = json.loads(engine.eval_query_as_json(f"data.{ns}"))["result"][0]["expressions"][0]["value"]
            excepted = {r for group in value.get("exception", []) for r in group}
            entry = {"filename": name, "namespace": ns, "successes": 0, "failures": [], "warnings": [],
                     "exceptions": []}
            for rule, produced in value.items():
                m = re.match(r"^(deny|violation|warn)(_\w+)?$", rule)
                if not m:
                    continue
                short = (m.group(2) or "_")[1:]
                bucket = "warnings" if m.group(1) == "warn" else "failures"
                for item in produced if isinstance(produced, list) else []:
                    msg = item["msg"] if isinstance(item, dict) else item
                    meta = {k: v for k, v in item.items() if k != "msg"} if isinstance(item, dict) else {}
                    meta["query"] = f"data.{ns}.{rule}"
                    target = "exceptions" if short in excepted else bucket
                    entry[target].append({"msg": msg, "metadata": meta})
            out.append(entry)
    if mode == "env":  # what a policy's opa.runtime().env would see: the names of the environment
        for entry in out:
            entry["warnings"].append({"msg": "env: " + ",".join(sorted(os.environ)), "metadata": {}})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
