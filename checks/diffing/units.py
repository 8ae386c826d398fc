"""Unit-level diffs: base revision against head, or one environment against another.

Secrets never appear: `secrets.yaml` is not a value layer, and any value whose key or
content the secret detectors consider secret is shown as `*** (sha256:xxxxxxxx)`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from checks.diffing.sides import Side
from checks.diffing.values_diff import DEFAULT_IDENTIFIERS, ValueChange, diff_values
from checks.engines.redact import Redactor, masked_text
from checks.engines.secret_scan import NAMING_KEY, Detectors
from checks.model.platform import CHART_VALUES, CONFIGS, INFRA, Unit, layer_paths
from checks.model.values import EffectiveValues

SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth",
                        re.IGNORECASE)
VERSION = 1


class Masker:
    def __init__(self, detectors: Detectors | None = None) -> None:
        self.detectors = detectors or Detectors()
        self.redactor = Redactor()  # key-path segments: a secret used as a key is masked too

    @staticmethod
    def _key(path: tuple) -> str:
        keys = [p for p in path if isinstance(p, str)]
        if len(keys) >= 2 and keys[-1] == "value" and keys[-2].startswith("name="):
            return keys[-2][5:]
        return keys[-1] if keys else ""

    def secret(self, path: tuple, value: Any) -> bool:
        if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
            return False
        key = self._key(path)
        if key and NAMING_KEY.match(key):
            return False  # names a secret, does not hold one
        if key and SECRET_KEY.search(key):
            return True
        text = str(value)
        quoted = json.dumps(text)
        return bool(self.detectors.scan_line(f"{key or 'value'}: {quoted}", "values.yaml"))

    def mask(self, path: tuple, value: Any) -> tuple[Any, bool]:
        """The value to show, and whether anything in it was masked."""
        if isinstance(value, dict):
            out, any_masked = {}, False
            for k, v in value.items():
                shown_key = self.redactor.key(str(k)) if isinstance(k, str) else k
                out[shown_key], masked = self.mask((*path, str(k)), v)
                any_masked |= masked or shown_key != k
            return out, any_masked
        if isinstance(value, list):
            out_list, any_masked = [], False
            for i, v in enumerate(value):
                name = v.get("name") if isinstance(v, dict) and isinstance(v.get("name"), str) else None
                shown, masked = self.mask((*path, f"name={name}" if name else str(i)), v)
                out_list.append(shown)
                any_masked |= masked
            return out_list, any_masked
        if self.secret(path, value):
            return masked_text(value), True
        return value, False


@dataclass
class Change:
    path: list[str]
    kind: str
    before: Any
    after: Any
    source: dict[str, Any] | None  # where the value after was set (the value before, for a removal)
    masked: bool = False
    before_source: dict[str, Any] | None = None  # where the value before was set

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "before": self.before, "after": self.after,
                "source": self.source, **({"before_source": self.before_source} if self.before_source else {}),
                **({"masked": True} if self.masked else {})}


@dataclass
class Shadowed:
    """A product default changed at `path`, but these units override it: they keep their own value."""
    path: list[str]
    after: Any  # the new default (masked like any value)
    default_file: str
    units: list[str] = field(default_factory=list)  # unit labels
    sources: list[str] = field(default_factory=list)  # the overriding files and lines, each once

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "new_default": self.after, "default_file": self.default_file,
                "units": self.units, "overridden_in": self.sources}


@dataclass
class UnitDiff:
    unit: Unit
    status: str  # changed | added | removed | unevaluated
    changes: list[Change] = field(default_factory=list)
    files: set[str] = field(default_factory=set)  # layer files of either side
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"customer": self.unit.customer, "product": self.unit.product,
                "environment": self.unit.environment, "status": self.status,
                "changes": [c.to_json() for c in self.changes]}
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class DiffResult:
    mode: str  # "revisions" or "environments"
    base: str
    head: str
    units: list[UnitDiff]
    changed_files: list[str] = field(default_factory=list)
    applications: dict[str, list] | None = None  # {added, removed, changed}
    schemas: list[dict[str, Any]] | None = None  # values.schema.json changes: units now failing / passing
    shadowed: list[Shadowed] = field(default_factory=list)
    from_env: str | None = None  # the promotion view: `to_env` now -> `to_env` with `from_env`'s values
    to_env: str | None = None
    revision: str | None = None  # the promotion view reads one revision of customer-configs
    ignore_patterns: tuple[str, ...] = ()
    ignored: dict[str, tuple[int, str]] = field(default_factory=dict)  # key path -> (units, an example)

    def summary(self) -> dict[str, Any]:
        by_status = Counter(u.status for u in self.units)
        per_product_env: dict[str, int] = Counter(f"{u.unit.product}/{u.unit.environment}" for u in self.units)
        customers = sorted({u.unit.customer for u in self.units})
        # A changed file caused a unit's diff when a change's value comes from it (either side), or, for
        # units that appear, disappear or cannot be read, when it is one of their value files or their
        # customer's products.yaml (an added customer's Terraform file caused no value diff).
        causes: dict[str, int] = defaultdict(int)
        changed = set(self.changed_files)
        for u in self.units:
            # a platform-infrastructure file is named with its repository (a chart's values.yaml)
            caused = {src["path"] if src.get("repo") == CONFIGS else f"{src.get('repo')}/{src['path']}"
                      for c in u.changes for src in (c.source, c.before_source) if src} & changed
            if u.status != "changed":
                caused |= (u.files | {f"customers/{u.unit.customer}/products.yaml"}) & changed
                caused |= {f for f in changed if u.status == "unevaluated" and f in u.note}
            for f in caused:
                causes[f] += 1
        return {
            "units_changed": by_status.get("changed", 0),
            "units_added": by_status.get("added", 0),
            "units_removed": by_status.get("removed", 0),
            "units_unevaluated": by_status.get("unevaluated", 0),
            "customers_affected": len(customers),
            "customers": customers,
            "by_product_environment": dict(sorted(per_product_env.items())),
            "changed_files": {f: causes.get(f, 0) for f in self.changed_files},
        }

    def to_json(self) -> dict[str, Any]:
        data = {"version": VERSION, "mode": self.mode, "base": self.base, "head": self.head,
                "summary": self.summary(), "units": [u.to_json() for u in self.units]}
        if self.mode == "environments":
            data["promotion"] = {"from": self.from_env, "to": self.to_env, "revision": self.revision,
                                 "ignore": list(self.ignore_patterns),
                                 "ignored": {k: {"units": n, "example": ex} for k, (n, ex) in self.ignored.items()}}
        if self.shadowed:
            data["not_receiving"] = [s.to_json() for s in self.shadowed]
        if self.applications is not None:
            data["applications"] = self.applications
        if self.schemas:
            data["schemas"] = self.schemas
        return data


def _source(ev: EffectiveValues, path: tuple) -> dict[str, Any] | None:
    origin = ev.origin(path)
    if origin is None:
        return None
    return {"repo": origin.repo, "path": origin.path, "line": origin.line}


def _changes(base: EffectiveValues | None, head: EffectiveValues | None, masker: Masker,
             identifiers: tuple[str, ...]) -> list[Change]:
    before = base.values if base else {}
    after = head.values if head else {}
    out = []
    for vc in diff_values(before, after, identifiers):
        out.append(_shown(vc, base, head, masker))
    return out


def value_changes(base: EffectiveValues | None, head: EffectiveValues | None, masker: Masker,
                  identifiers: tuple[str, ...] = DEFAULT_IDENTIFIERS) -> list[Change]:
    """The changes from one set of effective values to another, masked, with where each was set."""
    return _changes(base, head, masker, identifiers)


def _shown(vc: ValueChange, base: EffectiveValues | None, head: EffectiveValues | None, masker: Masker) -> Change:
    b, bm = masker.mask(vc.path, vc.before)
    a, am = masker.mask(vc.path, vc.after)
    if bm != am and vc.kind == "changed":
        # one side secret-looking: mask both so a rotated secret never shows either half
        b, a = masked_text(vc.before) if vc.before is not None else None, masked_text(vc.after)
        bm = am = True
    source = _source(head, vc.head_path) if head is not None and vc.kind != "removed" else (
        _source(base, vc.base_path) if base is not None else None)
    before_source = _source(base, vc.base_path) if base is not None and vc.kind not in ("added", "removed") else None
    if before_source == source:
        before_source = None  # shown only when the value before came from elsewhere (the promotion view)
    path: list[Any] = list(masker.redactor.key_path(tuple(vc.path)))  # list indices are ints
    return Change(path, vc.kind, b, a, source, bm or am or path != list(vc.path), before_source)


def _files(ev: EffectiveValues | None) -> set[str]:
    return {layer.path for layer in ev.layers} if ev else set()


def diff_revisions(base: Side, head: Side, base_label: str, head_label: str,
                   changed_files: list[str], identifiers: tuple[str, ...] = DEFAULT_IDENTIFIERS,
                   masker: Masker | None = None) -> DiffResult:
    masker = masker or Masker()
    base_units = {u for u in base.model.units() if head.scope.includes_unit(u)}
    head_units = set(head.units())
    result: list[UnitDiff] = []
    shadows = _Shadows(base, head, changed_files, masker, identifiers)
    for unit in sorted(base_units | head_units):
        if unit in base_units and unit in head_units and _same_layers(base, head, unit):
            continue  # identical value files on both sides: the diff is empty without computing it
        bev, berr = base.values(unit) if unit in base_units else (None, [])
        hev, herr = head.values(unit) if unit in head_units else (None, [])
        if berr or herr:
            bad = ", ".join(f"{e.path} ({e.reason})" for e in berr + herr)
            result.append(UnitDiff(unit, "unevaluated", note=f"not evaluated: {bad}"))
            continue
        if unit not in head_units and unit.customer in head.model.unreadable:
            result.append(UnitDiff(unit, "unevaluated",
                                   note=f"customers/{unit.customer}/products.yaml cannot be read at head"))
            continue
        if hev is not None and bev is not None:
            shadows.visit(unit, hev)
        if unit not in base_units:
            result.append(UnitDiff(unit, "added", _changes(None, hev, masker, identifiers), _files(hev)))
        elif unit not in head_units:
            result.append(UnitDiff(unit, "removed", _changes(bev, None, masker, identifiers), _files(bev)))
        else:
            changes = _changes(bev, hev, masker, identifiers)
            if changes:
                result.append(UnitDiff(unit, "changed", changes, _files(bev) | _files(hev)))
    return DiffResult("revisions", base_label, head_label, result, sorted(changed_files),
                      shadowed=shadows.result())


_DEFAULT_FILE = re.compile(r"^products/[^/]+/(base-values\.yaml|environments/[^/]+\.yaml)$")
_CHART_FILE = re.compile("^" + re.escape(CHART_VALUES).replace(re.escape("{p}"), "[^/]+") + "$")


class _Shadows:
    """Who does not get a product default's change: units where a later layer (the product's
    environment file, the customer's values or environment file) sets the same key."""

    def __init__(self, base: Side, head: Side, changed_files: list[str], masker: Masker,
                 identifiers: tuple[str, ...]) -> None:
        self.masker = masker
        self.defaults: dict[tuple[str, str], list[ValueChange]] = {}
        for name in changed_files:
            # product defaults in customer-configs, and (a platform-infrastructure change) chart defaults
            repo, path = (INFRA, name[len(INFRA) + 1:]) if name.startswith(INFRA + "/") else (CONFIGS, name)
            if (repo == CONFIGS and _DEFAULT_FILE.match(path)) or (repo == INFRA and _CHART_FILE.match(path)):
                before, after = _first_map(base, path, repo), _first_map(head, path, repo)
                changes = diff_values(before, after, identifiers)
                if changes:
                    self.defaults[(repo, path)] = changes
        self.found: dict[tuple[str, str, str], Shadowed] = {}

    def visit(self, unit: Unit, ev: EffectiveValues) -> None:
        if not self.defaults:
            return
        seen: set[str] = set()
        for index, layer in enumerate(ev.layers):
            where_set = (layer.repo, layer.path)
            changes = self.defaults.get(where_set) if layer.path not in seen else None
            seen.add(layer.path)
            for vc in changes or ():
                raw = vc.base_path if vc.kind == "removed" else vc.head_path
                setter = ev.layer_of(raw)
                if setter is None or setter <= index or ev.layers[setter].path == layer.path:
                    continue
                origin = ev.origin(raw)
                after, _ = self.masker.mask(vc.path, vc.after)
                key = (layer.path, json.dumps(vc.path), json.dumps(after, sort_keys=True, default=str))
                name = layer.path if layer.repo == CONFIGS else f"{layer.repo}/{layer.path}"
                entry = self.found.setdefault(key, Shadowed(list(vc.path), after, name))
                entry.units.append(unit.label)
                where = f"{origin.path}:{origin.line or '?'}" if origin else ev.layers[setter].path
                if where not in entry.sources:
                    entry.sources.append(where)

    def result(self) -> list[Shadowed]:
        return sorted(self.found.values(), key=lambda s: (s.default_file, s.path, -len(s.units)))


def _first_map(side: Side, path: str, repo: str = CONFIGS) -> dict:
    parsed = side.store.get(repo, path)
    value = parsed.first.value if parsed is not None and parsed.ok and parsed.first is not None else None
    return value if isinstance(value, dict) else {}


def _same_layers(base: Side, head: Side, unit: Unit) -> bool:
    for _, path in layer_paths(unit):
        if base.store.blob(CONFIGS, path) != head.store.blob(CONFIGS, path):
            return False
    # the chart's values: the same platform-infrastructure source on both sides, or the same content
    if base.sources.get(INFRA) is head.sources.get(INFRA):
        return True
    chart = CHART_VALUES.format(p=unit.product)
    return base.store.blob(INFRA, chart) == head.store.blob(INFRA, chart)


def diff_environments(side: Side, from_env: str, to_env: str, customers: set[str] | None,
                      products: set[str] | None, label: str, identifiers: tuple[str, ...] = DEFAULT_IDENTIFIERS,
                      masker: Masker | None = None, ignore: tuple[str, ...] = ()) -> DiffResult:
    """The promotion view: for each customer and product with both environments, what `to_env` becomes if it
    takes `from_env`'s values (`to_env` now -> after). Keys matching `ignore` (globs on key paths, meant to
    differ between environments: replicas, hosts...) are counted apart instead of listed unit by unit."""
    masker = masker or Masker()
    units = side.model.units()
    have = {(u.customer, u.product, u.environment) for u in units}
    result: list[UnitDiff] = []
    ignored: dict[str, tuple[int, str]] = {}
    for unit in units:
        if unit.environment != to_env or (customers and unit.customer not in customers) or (
                products and unit.product not in products):
            continue
        if (unit.customer, unit.product, from_env) not in have:
            result.append(UnitDiff(unit, "unevaluated", note=f"{unit.customer} has no {from_env} for {unit.product}"))
            continue
        now, _ = side.values(unit)
        promoted, _ = side.values(Unit(unit.customer, unit.product, from_env))
        if now is None or promoted is None:
            result.append(UnitDiff(unit, "unevaluated", note="a value file could not be read"))
            continue
        changes = []
        for change in _changes(now, promoted, masker, identifiers):
            if ignore and ignored_path(change.path, ignore):
                key = ".".join(change.path)
                count, example = ignored.get(key, (0, f"{unit.label}: {_short(change.before)} -> "
                                                      f"{_short(change.after)}"))
                ignored[key] = (count + 1, example)
            else:
                changes.append(change)
        if changes:
            result.append(UnitDiff(unit, "changed", changes, _files(now) | _files(promoted)))
    return DiffResult("environments", f"{to_env} now", f"{to_env} after", result, revision=label,
                      from_env=from_env, to_env=to_env, ignore_patterns=ignore, ignored=dict(sorted(ignored.items())))


def ignored_path(path: list[str], patterns: tuple[str, ...]) -> bool:
    """A glob matches a key path or any of its parents: `resources` also covers `resources.limits.cpu`."""
    prefixes = [".".join(path[:i]) for i in range(1, len(path) + 1)]
    return any(fnmatch.fnmatchcase(p, pattern) for pattern in patterns for p in prefixes)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"
