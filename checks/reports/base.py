"""What a run report is given: the run's result and how to render it."""

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
    junit_granularity: str = "coarse"  # coarse: a case per check and customer; fine: per unit or file


Reporter = Callable[[ReportContext, TextIO], None]
