"""Shared by checks that report on units: where to point for a key path, and how to name a group of units."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from checks.core.findings import Finding, KeyPath, UnitGroup
from checks.model.platform import Unit
from checks.model.values import EffectiveValues, get_path


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


# -- findings about a group of units, merged across worker parts and shards -----------------
# A worker (or a `--shard`) sees only its part of the customers, so "12 units of 7 customers"
# from two parts must become one finding about all of them. Such findings carry their units in
# `Finding.group` (a shard's JSON report keeps it so merge-reports can merge them; other reports
# never show it). UNITS marks, in the message a check writes, where the description goes.
UNITS = "\x00units\x00"


def _describe(group: UnitGroup, units: list[Unit]) -> str:
    return group.before + (units_text(units) if group.style == "text" else str(len(units))) + group.after


def grouped_finding(check: Any, template: str, units: list[Unit], style: str = "text", **kw: Any) -> Finding:
    """`check.finding` for a message naming several units: UNITS in `template` becomes their
    description ("text": who they are; "count": how many)."""
    before, _, after = template.partition(UNITS)
    group = UnitGroup(before, after, style, tuple((u.customer, u.product, u.environment) for u in units))
    fields = unit_fields(units) if style == "text" else {}  # a count names no unit: the caller says where
    finding: Finding = check.finding(_describe(group, units), **kw, **fields)
    return replace(finding, group=group)


def merge_unit_groups(findings: list[Finding], keep: bool = False) -> list[Finding]:
    """One finding per group identity, its units the union of every part's; other findings as
    they are. `keep`: leave the merged units on the finding (for a shard's JSON report)."""
    merged: dict[tuple[Any, ...], tuple[Finding, UnitGroup, set[Unit]]] = {}
    order: list[Finding | tuple[Any, ...]] = []
    for f in findings:
        group = f.group
        if group is None:
            order.append(f)
            continue
        units = {Unit(*u) for u in group.units}
        key = (f.check, f.severity, f.repo, f.path, f.line, f.column, f.key_path, f.discriminator,
               group.before, group.after, group.style)
        if key in merged:
            merged[key][2].update(units)
        else:
            merged[key] = (f, group, units)
            order.append(key)
    out = []
    for item in order:
        if isinstance(item, Finding):
            out.append(item)
            continue
        first, first_group, units = merged[item]
        ordered = sorted(units)
        group = replace(first_group, units=tuple((u.customer, u.product, u.environment) for u in ordered))
        merged_finding = replace(first, message=_describe(group, ordered), group=group if keep else None)
        if group.style == "text":  # a count names no unit: the check said where
            fields = unit_fields(ordered)
            merged_finding = replace(merged_finding, customer=fields["customer"], product=fields["product"],
                                     environment=fields["environment"])
        out.append(merged_finding)
    return out
