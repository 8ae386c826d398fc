"""Diff as JSON, version 1."""

from __future__ import annotations

import json
from typing import TextIO

from checks.diffing.units import DiffResult


def write(result: DiffResult, out: TextIO) -> None:
    json.dump(result.to_json(), out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")
