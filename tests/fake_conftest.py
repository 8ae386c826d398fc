#!/usr/bin/env python3
"""A STAND-IN for conftest, used by the tests because conftest is not installable from this
machine's package registries. It is not conftest. It implements only what the suite calls --
`conftest test --output json --no-fail --all-namespaces --policy DIR... FILE...` -- and prints
conftest's documented JSON output shape:

  [{"filename": ..., "namespace": ..., "successes": N,
    "failures": [{"msg": ..., "metadata": {...}}], "warnings": [...], "exceptions": [...]}]

Rules are evaluated with the Regorus interpreter, independently of gitops-checks' own
engine code. CONFTEST_FAKE_MODE=exit2|garbage|nonlist simulates conftest misbehaving; env reports the names of
the environment conftest runs with (what `opa.runtime().env` would show a policy).
"""

import json
import os
import re
import sys
from pathlib import Path

import regorus


def main(argv: list[str]) -> int:
    mode = os.environ.get("CONFTEST_FAKE_MODE", "")
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
        elif argv[i] in ("--output",):
            i += 2
        elif argv[i].startswith("--"):
            i += 1
        else:
            files.append(argv[i])
            i += 1
    engine = regorus.Engine()
    namespaces = set()
    for directory in policies:
        for path in sorted(Path(directory).glob("*.rego")):
            if path.name.endswith("_test.rego"):
                continue
            text = path.read_text()
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
