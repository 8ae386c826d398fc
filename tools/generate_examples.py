"""Regenerate examples/: 25 customers, 4 products, dev/staging/prod, secrets encrypted with SOPS.

The age key in examples/demo-age-key.txt is a DEMO KEY, committed on purpose so that
anyone can decrypt the example secrets. Never use it for anything real.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyrage
from repogen import generate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY_FILE = EXAMPLES / "demo-age-key.txt"


def demo_key() -> tuple[str, str]:
    if KEY_FILE.exists():
        secret = next(line for line in KEY_FILE.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
        identity = pyrage.x25519.Identity.from_str(secret)
    else:
        identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEY_FILE.write_text(
        "# DEMO KEY -- committed on purpose so the examples can be decrypted. NOT A REAL SECRET.\n"
        "# Never use this key for anything but gitops-checks' examples.\n"
        f"# public key: {recipient}\n{identity}\n"
    )
    return str(identity), recipient


def main() -> int:
    _, recipient = demo_key()
    result = generate(EXAMPLES, customers=25, seed=7, age_recipient=recipient, encrypt="each")
    print(f"wrote {len(result.customers)} customers to {result.configs} and charts to {result.infra}; "
          f"{len(result.secret_files)} secret files encrypted with SOPS (age)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
