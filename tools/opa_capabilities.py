"""Write checks/engines/opa/capabilities.json: OPA's capabilities file (tests/data/opa-capabilities,
the newest OPA release's, Apache-2.0) without the builtins that reach outside the evaluation --
the network (`http.send`, `net.lookup_ip_addr`) and the process (`opa.runtime`: its `env` is
the environment conftest runs in). conftest is given it with `--capabilities`, so a repository
policy that calls one of them does not compile: a policy/engine error, never a request.

    python tools/opa_capabilities.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "tests/data/opa-capabilities/v1.20.2.json"
SHIPPED = ROOT / "checks/engines/opa/capabilities.json"
# What a policy must never reach: the network and conftest's environment. The net.cidr_* builtins
# are address arithmetic, no lookup: they stay (Regorus, the other engine, has them too).
REMOVED = ("http.send", "net.lookup_ip_addr", "opa.runtime")


def restricted(upstream: dict) -> dict:
    return {**upstream, "builtins": [b for b in upstream["builtins"] if b["name"] not in REMOVED]}


def main() -> int:
    upstream = json.loads(UPSTREAM.read_text(encoding="utf-8"))
    SHIPPED.write_text(json.dumps(restricted(upstream), indent=2) + "\n", encoding="utf-8")
    print(f"{SHIPPED.relative_to(ROOT)}: {len(upstream['builtins']) - len(REMOVED)} builtins, without "
          + ", ".join(REMOVED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
