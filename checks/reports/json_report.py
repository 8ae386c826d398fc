"""JSON report, version 1 (the contract in DESIGN.md)."""

from __future__ import annotations

import json
from typing import TextIO

from checks.core.findings import Severity
from checks.reports.base import ReportContext

VERSION = 1


def build(ctx: ReportContext) -> dict:
    result = ctx.result
    return {
        "version": VERSION,
        "summary": {
            "errors": result.count(Severity.ERROR),
            "warnings": result.count(Severity.WARNING),
            "notices": result.count(Severity.NOTICE),
            "units": result.units,
            "files": result.files,
            "suppressed": len(result.suppressed),
            "baselined": len(result.baselined),
            # PR mode: findings the change cannot have caused (listed below, never failed on)
            **({"outside_change": len(result.outside)} if result.pull_request else {}),
            **({"note": result.note} if result.note else {}),
        },
        "findings": [f.to_dict() for f in result.findings],
        **({"outside_change": [f.to_dict() for f in result.outside]} if result.pull_request else {}),
        **({"pairing": result.pairing} if result.pairing else {}),
        # PR mode: inline suppressions the change adds (they never hide a secrets/* finding)
        **({"suppressions_added": result.suppressions_added} if result.suppressions_added else {}),
        # what was examined, so that merge-reports can rebuild JUnit test cases across shards
        **({"shard": list(ctx.shard), "examined": result.examined, "subjects": result.subjects,
            "checks_run": result.checks_run, "duration": round(result.duration, 3)} if ctx.shard else {}),
    }


def write(ctx: ReportContext, out: TextIO) -> None:
    json.dump(build(ctx), out, indent=2, ensure_ascii=False)
    out.write("\n")
