"""What Go's text/template execution can end in, shared by the template engine and its
functions: Go's errors (ArgoCD then fails the generation), what is not emulated, and Go's
notion of truth and of JSON-decoded numbers."""

from __future__ import annotations

from typing import Any

from checks.engines.gofmt import MISSING


class TemplateError(Exception):
    """Go fails to parse or execute the template (ArgoCD fails the generation)."""


class MissingKey(TemplateError):
    """A map key that is not there, under `missingkey=error`."""

    def __init__(self, key: str, expression: str) -> None:
        super().__init__(f'map has no entry for key "{key}" (in {expression})')
        self.key = key


class NotEvaluated(Exception):
    """A construct outside what this emulation evaluates."""


class GoError(Exception):
    """Raised by a template function: Go's `error calling NAME: ...`."""


def truth(v: Any) -> bool:
    """Go's template truth: false, 0, nil, empty string, list or map are false."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, (str, list, tuple, dict)):
        return len(v) > 0
    if isinstance(v, (bool, int, float)):
        return bool(v)
    return True


def as_data(v: Any) -> Any:
    """Parameters hold JSON-decoded data: Go sees every number as float64."""
    if type(v) is int:
        return float(v)
    return v
