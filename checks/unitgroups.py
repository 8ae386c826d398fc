"""Shared by checks that report on units: where to point for a key path, and how to name a group of units."""

from __future__ import annotations

from dataclasses import dataclass

from checks.findings import KeyPath
from checks.model import Unit
from checks.values import EffectiveValues, get_path


@dataclass(frozen=True)
class Where:
    repo: str
    path: str
    line: int | None
    column: int | None
    note: str = ""


def locate(ev: EffectiveValues, path: KeyPath, keyword: str = "") -> Where:
    """Where a human must edit: the line that set the value; for a value that is not there (a
    missing required property), the most specific layer that defines its nearest existing parent."""
    if keyword != "required" and ev.layer_of(path) is not None:
        origin = ev.origin(path)
        if origin is not None:
            return Where(origin.repo, origin.path, origin.line, origin.column)
    looked = ", ".join(layer.label for layer in ev.layers)
    for end in range(len(path), -1, -1):
        for layer in reversed(ev.layers):
            if isinstance(get_path(layer.document.value, path[:end]), dict):
                pos = layer.document.locate(path[:end])
                return Where(layer.repo, layer.path, pos[0] if pos else 1, pos[1] if pos else None,
                             f"; looked in: {looked}")
    last = ev.layers[-1]
    return Where(last.repo, last.path, 1, 1, f"; looked in: {looked}")


def units_text(units: list[Unit]) -> str:
    customers = sorted({u.customer for u in units})
    if len(customers) == 1:
        return f"environments: {', '.join(sorted({u.environment for u in units}))}"
    return f"{len(units)} units of {len(customers)} customers, e.g. {', '.join(customers[:3])}"


def unit_fields(units: list[Unit]) -> dict[str, str | None]:
    def one(values: set[str]) -> str | None:
        return next(iter(values)) if len(values) == 1 else None

    return {"customer": one({u.customer for u in units}), "product": one({u.product for u in units}),
            "environment": one({u.environment for u in units})}
