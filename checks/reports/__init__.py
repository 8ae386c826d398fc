"""Reporters, looked up by name. A reporter formats; it never decides pass or fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from checks.runner.run import RunResult


@dataclass(frozen=True)
class ReportContext:
    result: RunResult
    color: bool
    fail_on: str
    shard: tuple[int, int] | None = None


Reporter = Callable[[ReportContext, TextIO], None]


def reporters() -> dict[str, Reporter]:
    from checks.reports import console, json_report, junit, sarif

    return {"console": console.write, "json": json_report.write, "junit": junit.write, "sarif": sarif.write}
