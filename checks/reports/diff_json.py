"""Diff as JSON, version 1."""

from __future__ import annotations

import json
from typing import TextIO

from checks.reports.base import DiffReportContext


def write(report: DiffReportContext, out: TextIO) -> None:
    result = report.diff
    json.dump(result.to_json(), out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")
