"""Helm-compatible value layering with provenance.

ArgoCD hands Helm the four customer-configs files as `valueFiles`, in order, on top
of the chart's own `values.yaml`. Helm builds the effective values in two stages,
and we follow both:

Stage 1 -- the value files (helm `pkg/cli/values/options.go`, `mergeMaps`):
maps merge recursively; anything else in a later file (scalar, list, null, a map
over a non-map) replaces what was there. An empty map changes nothing; an empty
list replaces; `null` is kept at this stage.

Stage 2 -- chart defaults underneath (helm `pkg/chart/common/util/coalesce.go`,
`coalesceValues` and `coalesceTablesFullKey`; `pkg/chartutil/coalesce.go` in Helm 3):
the user's values win; a user `null` deletes the chart default; a map against a
non-map keeps the user's value and Helm logs a warning (we report a notice).

Versions matched (setting `helm`): "4" is Helm 4.2.4, "3" is Helm 3.21.4
(`pkg/chart/common/util/coalesce.go` and `pkg/chartutil/coalesce.go` at those tags).
- Helm 3 reads only the first YAML document of a values file; Helm 4 merges every
  document of the file in order, as if each were its own file.
- Both delete a nested user `null` only where it overrides a non-null chart default and
  keep it otherwise (Helm before 3.20 deleted every nested `null`; not emulated). At the
  top level both delete a user `null` wherever the chart has that key.
- Helm 4.2 does not copy chart-default nulls into the values (a `password: null`
  default never appears); Helm 3.21 copies them.
Subcharts and `global` are not coalesced here: a product is one chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.core.findings import KeyPath, format_key_path
from checks.model.platform import CHART_VALUES, CONFIGS, INFRA, Unit, layer_paths
from checks.repo.documents import DocumentStore, Position, YamlDocument

# A provenance tree mirrors the values: for each key either the index of the layer
# that set the whole subtree, or a nested tree where maps were merged.
Prov = dict[str, "int | Prov"]


@dataclass(frozen=True)
class Layer:
    label: str
    repo: str
    path: str
    document: YamlDocument
    document_index: int = 0


@dataclass(frozen=True)
class Origin:
    label: str
    repo: str
    path: str
    line: int | None
    column: int | None


@dataclass(frozen=True)
class TypeConflict:
    key_path: KeyPath
    kept_layer: int  # the layer whose value Helm keeps
    other_layer: int
    message: str


class EffectiveValues:
    """A unit's effective values, the layers they came from and the type conflicts between them.

    The provenance (which layer set each key) is computed when first asked for: only findings
    that point at a line, `values --explain` and diffs read it, and keeping it while merging
    cost more than the merge itself."""

    __slots__ = ("_provenance", "conflicts", "helm_major", "layers", "unit", "values")

    def __init__(self, unit: Unit, values: dict[str, Any], layers: list[Layer], provenance: Prov | None,
                 conflicts: list[TypeConflict] | None = None, helm_major: int = 4) -> None:
        self.unit = unit
        self.values = values
        self.layers = layers
        self._provenance = provenance
        self.conflicts = conflicts if conflicts is not None else []
        self.helm_major = helm_major

    @property
    def provenance(self) -> Prov:
        if self._provenance is None:
            self._provenance = _compute_with_provenance(self.unit, self.layers, self.helm_major).provenance
        return self._provenance

    def layer_of(self, path: KeyPath) -> int | None:
        """Index of the layer that set `path` (or its nearest ancestor with a known setter)."""
        node: int | Prov = self.provenance
        for part in path:
            if isinstance(node, int):
                return node
            if not isinstance(part, str) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, int) else None

    def origin(self, path: KeyPath) -> Origin | None:
        """The file and line that set the value at `path`."""
        idx = self.layer_of(path)
        if idx is None:
            # Not set (a missing key): point at the deepest ancestor that exists.
            for end in range(len(path) - 1, -1, -1):
                idx = self.layer_of(path[:end])
                if idx is not None:
                    path = path[:end]
                    break
            if idx is None:
                return None
        layer = self.layers[idx]
        pos: Position | None = layer.document.locate(path)
        return Origin(layer.label, layer.repo, layer.path, pos[0] if pos else None, pos[1] if pos else None)

    def leaves(self) -> list[tuple[KeyPath, Any]]:
        out: list[tuple[KeyPath, Any]] = []
        _walk_leaves(self.values, (), out)
        return out


def _walk_leaves(value: Any, path: KeyPath, out: list[tuple[KeyPath, Any]]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _walk_leaves(v, (*path, k), out)
    else:
        out.append((path, value))


def get_path(value: Any, path: KeyPath, default: Any = None) -> Any:
    """The value at a key path (dict keys and list indexes), or `default` when absent."""
    for part in path:
        in_map = isinstance(value, dict) and isinstance(part, str) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_map or in_list):
            return default
        value = value[part]
    return value


def copy_tree(value: Any) -> Any:
    """Copy of the maps of plain YAML data: coalescing mutates maps only; lists are replaced
    whole, never changed in place, so they may be shared with the cached documents."""
    if isinstance(value, dict):
        return {k: copy_tree(v) if isinstance(v, dict) else v for k, v in value.items()}
    return value


def _expand(prov: int | Prov, value: dict) -> Prov:
    """A provenance node for `value`; an int (whole subtree) becomes one level of ints."""
    if isinstance(prov, int):
        return dict.fromkeys(value, prov)
    return prov


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


# -- stage 1: value files -------------------------------------------------------
def merge_maps(base: dict, base_prov: Prov, overlay: dict, layer: int, path: KeyPath,
               conflicts: list[TypeConflict]) -> tuple[dict, Prov]:
    """helm mergeMaps: returns new dicts; never mutates its inputs (they are cached documents)."""
    out = dict(base)
    prov = dict(base_prov)
    for key, value in overlay.items():
        current = out.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(current, dict):
            sub = prov.get(key, layer)
            out[key], prov[key] = merge_maps(current, _expand(sub, current), value, layer, (*path, key),
                                             conflicts)
            continue
        if current is not _MISSING and current is not None and value is not None \
                and (isinstance(current, dict) != isinstance(value, dict)):
            before = prov.get(key)
            conflicts.append(TypeConflict(
                (*path, key), layer, before if isinstance(before, int) else layer,
                f"{format_key_path((*path, key))}: a {_kind(value)} replaces a {_kind(current)} from an "
                "earlier values file"))
        out[key] = value
        prov[key] = layer
    return out, prov


_MISSING = object()


# -- stage 2: chart defaults ----------------------------------------------------
def clean_nil_values(value: Any) -> Any:
    """helm cleanNilValues (Helm 4.2): a chart default map without its null entries (the map
    itself when it has none). Chart documents are parsed once and shared by every unit, so the
    result is kept per document object."""
    if not isinstance(value, dict):
        return value
    entry = _CLEANED.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    cleaned = _without_nils(value)
    if len(_CLEANED) > 4096:
        _CLEANED.clear()
    _CLEANED[id(value)] = (value, cleaned)
    return cleaned


_CLEANED: dict[int, tuple[dict, dict]] = {}


def _without_nils(value: dict) -> dict:
    out = {}
    changed = False
    for k, v in value.items():
        if v is None:
            changed = True
            continue
        sub = _without_nils(v) if isinstance(v, dict) else v
        changed = changed or sub is not v
        out[k] = sub
    return out if changed else value


def coalesce_chart(values: dict, prov: Prov, chart: dict, chart_layer: int, helm_major: int,
                   conflicts: list[TypeConflict]) -> None:
    """helm coalesceValues for the top-level chart; mutates `values` and `prov` (copies).

    A user null deletes the chart's key. Helm 4.2 leaves chart-default nulls out (a top-level
    null default is not copied, nested ones are cleaned from every default map); Helm 3.21
    copies them."""
    for key, default in chart.items():
        if key in values:
            value = values[key]
            if value is None:
                del values[key]
                prov.pop(key, None)
            elif isinstance(value, dict):
                if isinstance(default, dict):
                    sub = prov[key] = _expand(prov.get(key, chart_layer), value)
                    src = clean_nil_values(default) if helm_major >= 4 else default
                    _coalesce_tables(value, sub, src, chart_layer, helm_major, (key,), conflicts)
                elif default is not None:
                    _conflict(conflicts, (key,), prov, chart_layer, value, default)
            elif isinstance(default, dict):
                _conflict(conflicts, (key,), prov, chart_layer, value, default)
        else:
            if helm_major >= 4:
                if default is None:
                    continue
                default = clean_nil_values(default)
            values[key] = copy_tree(default)
            prov[key] = chart_layer


def _coalesce_tables(dst: dict, prov: Prov, src: dict, chart_layer: int, helm_major: int, path: KeyPath,
                     conflicts: list[TypeConflict]) -> None:
    """helm coalesceTablesFullKey (the same in 3.21 and 4.2): a user null deletes a non-null chart
    default and is kept where the chart has no (or a null) default."""
    src_non_null = {k for k, v in src.items() if v is not None}
    keys = list(src)
    keys += [k for k, v in dst.items() if v is None and k not in src]
    for key in keys:
        default = src.get(key)
        if key in dst:
            value = dst[key]
            if value is None:
                if key in src_non_null:
                    del dst[key]
                    prov.pop(key, None)
            elif isinstance(default, dict):
                if isinstance(value, dict):
                    sub = prov[key] = _expand(prov.get(key, chart_layer), value)
                    _coalesce_tables(value, sub, default, chart_layer, helm_major, (*path, key), conflicts)
                else:
                    _conflict(conflicts, (*path, key), prov, chart_layer, value, default)
            elif isinstance(value, dict) and default is not None:
                _conflict(conflicts, (*path, key), prov, chart_layer, value, default)
        else:
            dst[key] = copy_tree(default)
            prov[key] = chart_layer


def _conflict(conflicts: list[TypeConflict], path: KeyPath, prov: Prov, chart_layer: int, value: Any,
              default: Any) -> None:
    owner = prov.get(path[-1]) if isinstance(path[-1], str) else None
    conflicts.append(TypeConflict(
        path, owner if isinstance(owner, int) else chart_layer, chart_layer,
        f"{format_key_path(path)}: the chart's default is a {_kind(default)}, the values set a "
        f"{_kind(value)}; Helm keeps the {_kind(value)} and warns"))


# -- units ----------------------------------------------------------------------
@dataclass(frozen=True)
class LayerError:
    """A layer file that cannot be used: the unit is not evaluated (never a silent pass)."""

    repo: str
    path: str
    reason: str


def unit_layers(store: DocumentStore, unit: Unit, helm_major: int, with_chart: bool,
                memo: dict | None = None) -> tuple[list[Layer], list[LayerError]]:
    """The unit's layers in Helm's order, or why a layer file cannot be used. `memo` (the one
    `compute` takes) keeps the layers of the product-level files, which every unit of the
    product reads."""
    layers: list[Layer] = []
    errors: list[LayerError] = []
    candidates = []
    if with_chart:
        candidates.append(("chart defaults", INFRA, CHART_VALUES.format(p=unit.product)))
    candidates += [(label, CONFIGS, path) for label, path in layer_paths(unit)]
    for label, repo, path in candidates:
        if memo is not None and path.startswith("products/"):
            key = ("layers", label, repo, path, helm_major)
            found = memo.get(key)
            if found is None:
                found = memo[key] = _file_layers(store, label, repo, path, helm_major)
        else:
            found = _file_layers(store, label, repo, path, helm_major)
        layers.extend(found[0])
        errors.extend(found[1])
    return layers, errors


def _file_layers(store: DocumentStore, label: str, repo: str, path: str,
                 helm_major: int) -> tuple[tuple[Layer, ...], tuple[LayerError, ...]]:
    parsed = store.get(repo, path)
    if parsed is None:
        return (), ()
    if not parsed.ok:
        return (), (LayerError(repo, path, "the file could not be parsed"),)
    layers: list[Layer] = []
    errors: list[LayerError] = []
    docs = parsed.documents[:1] if helm_major == 3 else parsed.documents
    for i, doc in enumerate(docs):
        if doc.value is None:
            continue  # an empty document is an empty map to Helm
        if not isinstance(doc.value, dict):
            errors.append(LayerError(repo, path, f"top-level value is a {_kind(doc.value)}, not a map"))
            continue
        layers.append(Layer(label, repo, path, doc, i))
    return tuple(layers), tuple(errors)


def effective_values(store: DocumentStore, unit: Unit, helm_major: int = 4, with_chart: bool = True,
                     memo: dict | None = None) -> tuple[EffectiveValues | None, list[LayerError]]:
    layers, errors = unit_layers(store, unit, helm_major, with_chart and INFRA in store.sources, memo)
    if errors:
        return None, errors
    return compute(unit, layers, helm_major, memo), []


def compute(unit: Unit, layers: list[Layer], helm_major: int, memo: dict | None = None) -> EffectiveValues:
    """`memo` (one per store) shares the merge of the product-level layers between the units of
    one product and environment: merging never mutates, so its result can be reused.

    The values alone first (`_values_only`): without provenance, and copying only the maps the
    chart's defaults change. A unit with a type conflict (whose message names layers) is computed
    again with provenance, as is any unit's provenance when asked for."""
    try:
        values = _values_only(layers, helm_major, memo)
    except _Conflict:
        return _compute_with_provenance(unit, layers, helm_major, memo)
    return EffectiveValues(unit, values, layers, None, [], helm_major)


def _compute_with_provenance(unit: Unit, layers: list[Layer], helm_major: int,
                             memo: dict | None = None) -> EffectiveValues:
    conflicts: list[TypeConflict] = []
    chart = [i for i, layer in enumerate(layers) if layer.repo == INFRA]
    files = [i for i, layer in enumerate(layers) if layer.repo != INFRA]
    values: dict = {}
    prov: Prov = {}
    shared = [i for i in files if layers[i].path.startswith("products/")]
    if memo is not None and shared and shared == files[: len(shared)]:
        key = tuple((layer.repo, layer.path, layer.document_index) for layer in layers[: shared[-1] + 1])
        if key not in memo:
            memo_conflicts: list[TypeConflict] = []
            v: dict = {}
            pv: Prov = {}
            for i in shared:
                v, pv = merge_maps(v, pv, layers[i].document.value, i, (), memo_conflicts)
            memo[key] = (v, pv, memo_conflicts)
        values, prov, prefix_conflicts = memo[key]
        conflicts.extend(prefix_conflicts)
        files = files[len(shared):]
    for i in files:
        values, prov = merge_maps(values, prov, layers[i].document.value, i, (), conflicts)
    if chart:
        # Helm coalesces in place; work on a copy so cached documents and memoized merges stay intact.
        values = copy_tree(values)
        prov = {k: _copy_prov(v) for k, v in prov.items()}
        for i in chart:
            coalesce_chart(values, prov, layers[i].document.value, i, helm_major, conflicts)
    return EffectiveValues(unit, values, layers, prov, conflicts, helm_major)


# -- the values alone -------------------------------------------------------------
class _Conflict(Exception):
    """A type conflict: the unit is computed with provenance instead (its finding names layers)."""


def _values_only(layers: list[Layer], helm_major: int, memo: dict | None) -> dict:
    """The values `_compute_with_provenance` computes, without provenance: the same merges in the
    same order (so the same keys in the same order), raising _Conflict where it records a type
    conflict. Nothing given is mutated; unchanged maps are shared with the documents (as merge_maps
    shares them), a map the chart's defaults change is copied."""
    chart = [i for i, layer in enumerate(layers) if layer.repo == INFRA]
    files = [i for i, layer in enumerate(layers) if layer.repo != INFRA]
    values: dict = {}
    shared = [i for i in files if layers[i].path.startswith("products/")]
    if memo is not None and shared and shared == files[: len(shared)]:
        key = ("values only", *((layer.repo, layer.path, layer.document_index)
                                for layer in layers[: shared[-1] + 1]))
        if key not in memo:
            try:
                v: dict = {}
                for i in shared:
                    v = _merge_values(v, layers[i].document.value)
                memo[key] = v
            except _Conflict:
                memo[key] = None
        values = memo[key]
        if values is None:
            raise _Conflict
        files = files[len(shared):]
    for i in files:
        values = _merge_values(values, layers[i].document.value)
    for i in chart:
        values = _coalesce_chart_values(values, layers[i].document.value, helm_major)
    return values


def _merge_values(base: dict, overlay: dict) -> dict:
    """merge_maps without provenance."""
    out = dict(base)
    for key, value in overlay.items():
        current = out.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = _merge_values(current, value)
            continue
        if current is not _MISSING and current is not None and value is not None \
                and (isinstance(current, dict) != isinstance(value, dict)):
            raise _Conflict
        out[key] = value
    return out


def _coalesce_chart_values(values: dict, chart: dict, helm_major: int) -> dict:
    """coalesce_chart without provenance, on a copy of the top level."""
    out = dict(values)
    for key, default, is_map in _chart_items(chart, helm_major):
        if key in out:
            value = out[key]
            if value is None:
                del out[key]
            elif isinstance(value, dict):
                if is_map:
                    out[key] = _coalesce_table_values(value, default)
                elif default is not None:
                    raise _Conflict
            elif is_map:
                raise _Conflict
        elif default is not None or helm_major < 4:
            out[key] = default
    return out


def _chart_items(chart: dict, helm_major: int) -> list[tuple[Any, Any, bool]]:
    """(key, default, default is a map) of a chart's top level, the defaults as coalescing reads
    them (Helm 4: without nulls, clean_nil_values): once per chart document, which every unit of
    its product coalesces with (kept by identity, as clean_nil_values keeps its results)."""
    entry = _CHART_ITEMS.get((id(chart), helm_major))
    if entry is not None and entry[0] is chart:
        return entry[1]
    items = [(key, clean_nil_values(default) if helm_major >= 4 else default, isinstance(default, dict))
             for key, default in chart.items()]
    if len(_CHART_ITEMS) > 256:
        _CHART_ITEMS.clear()
    _CHART_ITEMS[(id(chart), helm_major)] = (chart, items)
    return items


_CHART_ITEMS: dict[tuple[int, int], tuple[dict, list[tuple[Any, Any, bool]]]] = {}


def _coalesce_table_values(dst: dict, src: dict) -> dict:
    """_coalesce_tables without provenance: `dst` itself when the defaults change nothing in it,
    else a copy with the same changes in the same order. (The user nulls it walks after the
    chart's keys change nothing but provenance, which is not kept here.)"""
    out: dict | None = None
    for key, default in src.items():
        if key in dst:
            value = dst[key]
            if value is None:
                if default is not None:
                    if out is None:
                        out = dict(dst)
                    del out[key]
            elif isinstance(default, dict):
                if not isinstance(value, dict):
                    raise _Conflict
                sub = _coalesce_table_values(value, default)
                if sub is not value:
                    if out is None:
                        out = dict(dst)
                    out[key] = sub
            elif isinstance(value, dict) and default is not None:
                raise _Conflict
        else:
            if out is None:
                out = dict(dst)
            out[key] = default
    return dst if out is None else out


def _copy_prov(prov: int | Prov) -> int | Prov:
    if isinstance(prov, int):
        return prov
    return {k: _copy_prov(v) for k, v in prov.items()}
