"""What a `values.schema.json` change does: the units that pass before and fail after, and the reverse.
That is what the reviewer of a schema change needs, not the schema's text diff."""

from __future__ import annotations

from typing import Any

from checks.diffing.sides import Side
from checks.model.platform import CONFIGS, INFRA, Unit
from checks.repo.source import Change

SCHEMA_SUFFIX = "/values.schema.json"


def _changed_products(changes: list[Change]) -> set[str]:
    out = set()
    for change in changes:
        for path in filter(None, (change.path, change.old_path)):
            parts = path.split("/")
            if len(parts) == 3 and parts[0] == "products" and path.endswith(SCHEMA_SUFFIX):
                out.add(parts[1])
    return out


def _first_error(side: Side, unit: Unit) -> str | None:
    """None when the unit's effective values pass every schema of its product (both repositories)."""
    from checks.engines.jsonschemas import explain

    ev, _ = side.values(unit)
    if ev is None:
        return None  # not evaluated: yaml/* reports its files
    for schema in side.product_schemas(unit.product):
        validator = schema.validator
        if validator is None:  # not usable
            continue
        try:
            error = next(iter(validator.iter_errors(ev.values)), None)
        except Exception:  # noqa: S112 - a schema that fails while validating is schema/values' finding
            continue
        if error is not None:
            _, message, _ = explain(error)
            return message
    return None


def schema_changes(base: Side, head: Side, configs_changes: list[Change],
                   infra_changes: list[Change]) -> list[dict[str, Any]]:
    products = _changed_products(configs_changes) | _changed_products(infra_changes)
    out = []
    for product in sorted(products):
        head_units = {u for u in head.units() if u.product == product}
        base_units = {u for u in base.model.units() if u.product == product and u in head_units}
        failing, passing = [], []
        for unit in sorted(base_units):
            before, after = _first_error(base, unit), _first_error(head, unit)
            if before is None and after is not None:
                failing.append({"unit": unit.label, "error": after})
            elif before is not None and after is None:
                passing.append(unit.label)
        schemas = [f"{repo}/products/{product}/values.schema.json" for repo, changes in
                   ((CONFIGS, configs_changes), (INFRA, infra_changes)) if product in _changed_products(changes)]
        out.append({"product": product, "schemas": schemas, "units_compared": len(base_units),
                    "now_failing": failing, "now_passing": passing})
    return out
