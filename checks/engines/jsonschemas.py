"""JSON Schemas: load and compile once, resolve only local `$ref`s, turn errors into readable text.

A schema is compiled with the draft its `$schema` names (default 2020-12; drafts 4, 6,
7, 2019-09 and 2020-12), format checks on. `$ref`s resolve inside the schema, to
files next to it in the same repository, and to the JSON Schema metaschemas; nothing
is ever fetched from the network. Problems with the schema itself (bad JSON, not
valid against its metaschema, a `$ref` that resolves nowhere) are collected with
their line so `schema/schema` can report them once.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from checks.core.findings import KeyPath, format_key_path
from checks.engines.safe_regex import UnsafePattern, compile_untrusted
from checks.engines.schema_keywords import matches, with_safe_patterns
from checks.repo.documents import DocumentStore, Position, YamlDocument

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from referencing import Resource

# python-jsonschema, its format checkers and `referencing` are imported where a schema is
# compiled: commands that never validate (`--version`, `list`) do not pay for them.

_SECRETISH = re.compile(r"pass(word)?|secret|token|api[-_]?key|private|credential|auth", re.IGNORECASE)


def _line_column(pos: tuple[int, int] | None) -> tuple[int | None, int | None]:
    return pos if pos is not None else (None, None)


@dataclass(frozen=True)
class SchemaProblem:
    message: str
    line: int | None = None
    column: int | None = None
    key_path: KeyPath = ()
    severity: str = "error"


@dataclass
class CompiledSchema:
    repo: str
    path: str
    validator: TwoStageValidator | None  # None when the schema is unusable
    problems: list[SchemaProblem] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.validator is not None


def _uri(repo: str, path: str) -> str:
    return f"file:///{repo}/{path}"


def _schema_refs(node: Any, path: KeyPath = ()) -> list[tuple[str, KeyPath]]:
    refs: list[tuple[str, KeyPath]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                refs.append((value, (*path, key)))
            elif key not in ("const", "enum", "examples", "default"):
                refs.extend(_schema_refs(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            refs.extend(_schema_refs(value, (*path, i)))
    return refs


# keywords that apply a subschema to the same value (not to a property or an item of it)
_IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref")


def _pointer(schema: Any, ref: str) -> tuple[Any, KeyPath] | None:
    """A local `#/a/b` reference inside the schema document, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = schema
    path: KeyPath = ()
    for raw in filter(None, ref[1:].split("/")):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node, path = node[part], (*path, part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node, path = node[int(part)], (*path, int(part))
        else:
            return None
    return node, path


def _ref_cycles(schema: dict) -> list[KeyPath]:
    """Where a chain of local `$ref`s and in-place applicators returns to where it started:
    python-jsonschema recurses until it fails, other validators quietly accept everything."""
    found: list[KeyPath] = []
    reported: set[KeyPath] = set()
    for _, ref_path in _schema_refs(schema):
        start = ref_path[:-1]
        stack: list[KeyPath] = [start]
        seen: set[KeyPath] = set()
        while stack:
            path = stack.pop()
            node = _pointer(schema, "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path))
            if node is None or not isinstance(node[0], dict):
                continue
            value = node[0]
            for key in _IN_PLACE:
                sub = value.get(key)
                targets: list[KeyPath] = []
                if key == "$ref" and isinstance(sub, str):
                    hit = _pointer(schema, sub)
                    targets = [hit[1]] if hit else []
                elif isinstance(sub, dict):
                    targets = [(*path, key)]
                elif isinstance(sub, list):
                    targets = [(*path, key, i) for i in range(len(sub))]
                for target in targets:
                    if target == start and start not in reported:
                        reported.add(start)
                        found.append(ref_path)
                    elif target not in seen:
                        seen.add(target)
                        stack.append(target)
    return found


def _has_nested_ids(node: Any, top: bool = True) -> bool:
    if isinstance(node, dict):
        if not top and isinstance(node.get("$id"), str):
            return True
        return any(_has_nested_ids(v, False) for k, v in node.items() if k not in ("const", "enum", "default"))
    if isinstance(node, list):
        return any(_has_nested_ids(v, False) for v in node)
    return False


def compile_schema(store: DocumentStore, repo: str, path: str) -> CompiledSchema | None:
    parsed = store.get(repo, path)
    if parsed is None:
        return None
    result = CompiledSchema(repo, path, None)
    if not parsed.ok or parsed.first is None:
        for p in parsed.problems:
            result.problems.append(SchemaProblem(f"not valid JSON: {p.message}", p.line, p.column))
        if not parsed.problems:
            result.problems.append(SchemaProblem("empty schema file"))
        return result
    doc = parsed.first
    schema = doc.value
    if not isinstance(schema, (dict, bool)):
        result.problems.append(SchemaProblem("a JSON Schema must be an object (or a boolean)", 1, 1))
        return result
    import jsonschema
    from jsonschema_specifications import REGISTRY as METASCHEMAS
    from referencing import Registry, Resource
    from referencing.exceptions import NoSuchResource, Unresolvable
    from referencing.jsonschema import DRAFT202012

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    if isinstance(declared, str) and jsonschema.validators.validator_for(schema, default=None) is None:
        # "http://json-schema.org/schema#" (the old "latest draft" URI, common in Bitnami charts)
        # is read as draft 7, as Helm's validators did when those charts were written.
        legacy = declared.rstrip("#").rstrip("/") in ("http://json-schema.org/schema", "https://json-schema.org/schema")
        cls = jsonschema.Draft7Validator if legacy else jsonschema.Draft202012Validator
        pos = doc.locate(("$schema",))
        result.problems.append(SchemaProblem(
            f"unrecognised $schema {declared!r}; validated as {'draft 7' if legacy else 'draft 2020-12'}",
            *_line_column(pos), ("$schema",), severity="notice"))
    meta_errors = [] if meta_valid_fast(cls, schema) else sorted(cls(cls.META_SCHEMA).iter_errors(schema),
                                                                  key=lambda e: list(e.absolute_path))
    for err in meta_errors[:10]:
        where = tuple(err.absolute_path)
        pos = doc.locate(where)
        result.problems.append(SchemaProblem(
            f"not a valid JSON Schema at {format_key_path(where) or '(root)'}: {_short(err.message)}",
            *_line_column(pos), where))
    if meta_errors:
        return result
    base = _uri(repo, path)

    def retrieve(uri: str) -> Resource:
        # Local files next to the schema only; never the network.
        prefix = f"file:///{repo}/"
        if not uri.startswith(prefix):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy cannot read
        rel = posixpath.normpath(uri[len(prefix):].split("#", 1)[0])
        if rel.startswith("../") or rel == "..":
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy cannot read
        other = store.get(repo, rel)
        if other is None or not other.ok or other.first is None:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy cannot read
        return Resource.from_contents(other.first.value, default_specification=DRAFT202012)

    registry = METASCHEMAS.combine(Registry(retrieve=retrieve))  # type: ignore[call-arg]
    registry = registry.with_resource(base, Resource.from_contents(schema, default_specification=DRAFT202012))
    if isinstance(schema, dict) and not _has_nested_ids(schema):
        resolver = registry.resolver(base)
        seen: set[str] = set()
        for ref, where in _schema_refs(schema):
            if ref in seen:
                continue
            seen.add(ref)
            try:
                resolver.lookup(ref)
            except Unresolvable:
                pos = doc.locate(where)
                remote = "://" in ref and not ref.startswith("file:")
                why = "remote references are never fetched" if remote else "it resolves nowhere"
                result.problems.append(SchemaProblem(f"$ref {ref!r} cannot be resolved: {why}",
                                                     *_line_column(pos), where))
    if isinstance(schema, dict):
        for where in _ref_cycles(schema):
            pos = doc.locate(where)
            result.problems.append(SchemaProblem(
                f"$ref cycle at {format_key_path(where) or '(root)'}: it leads back to itself without descending "
                "into the value, so validation never ends", *_line_column(pos), where))
    for where, pattern, reason in _unsafe_patterns(schema):
        pos = doc.locate(where)
        result.problems.append(SchemaProblem(
            f"pattern {_short(pattern, 80)!r} at {format_key_path(where)} cannot run in the linear-time engine (RE2: "
            f"{reason}); it is not evaluated", *_line_column(pos), where, severity="warning"))
    if any(p.severity == "error" for p in result.problems):
        return result
    safe_cls = with_safe_patterns(cls)
    if isinstance(schema, dict):
        # Give an id-less schema its file's URI, so relative $refs resolve next to it.
        id_key = "id" if cls is jsonschema.Draft4Validator else "$id"
        if id_key not in schema:
            schema = {**schema, id_key: base}
    result.validator = TwoStageValidator(safe_cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER),
                                         fast_validator(cls, schema, retrieve))
    return result


class TwoStageValidator:
    """jsonschema-rs says "valid" for most instances quickly; python-jsonschema explains the rest.

    python-jsonschema has the last word: an instance the fast validator rejects (or cannot
    take, e.g. a mapping with integer keys) is validated again by python-jsonschema."""

    def __init__(self, full: Any, fast: Any | None) -> None:
        self.full = full
        self.fast = fast

    def is_valid_fast(self, instance: Any) -> bool:
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(instance))
        except Exception:  # e.g. non-string keys: python-jsonschema decides
            return False

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self.is_valid_fast(instance):
            return iter(())
        return self.full.iter_errors(instance)


_FAST_CLASSES = frozenset({"Draft4Validator", "Draft6Validator", "Draft7Validator", "Draft201909Validator",
                           "Draft202012Validator"})


def _fast_class(cls: Any) -> Any | None:
    """jsonschema-rs's validator class for python-jsonschema's `cls`: None when jsonschema-rs (an
    optional speed-up) is not installed or has no such draft."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return getattr(jsonschema_rs, cls.__name__) if cls.__name__ in _FAST_CLASSES else None


def fast_validator(cls: Any, schema: Any, retrieve: Any) -> Any | None:
    """The same schema compiled by jsonschema-rs (Rust), about 20x faster for a yes/no answer.

    Format checks call python-jsonschema's own checkers, so "format" means the same in both;
    `$ref`s resolve through the same local-files-only retriever. Anything it cannot compile
    leaves the unit to python-jsonschema alone."""
    fast_cls = _fast_class(cls)
    if fast_cls is None:
        return None
    import jsonschema_rs

    checker = cls.FORMAT_CHECKER
    formats = {fmt: _remembered_format(checker, fmt) for fmt in checker.checkers}

    def retriever(uri: str) -> Any:
        return retrieve(uri).contents

    try:
        # Rust's regex crate: linear time, like RE2 (a pattern it cannot run leaves the unit to python-jsonschema)
        return fast_cls(schema, formats=formats, validate_formats=True, retriever=retriever,
                        pattern_options=jsonschema_rs.RegexOptions())
    except Exception:  # any compile problem: python-jsonschema validates alone
        return None


_META_VALIDATORS: dict[str, Any] = {}


def meta_valid_fast(cls: Any, schema: Any) -> bool:
    """Whether jsonschema-rs finds `schema` valid against its draft's metaschema, formats not
    asserted (as python-jsonschema checks it in compile_schema). python-jsonschema takes 20-50 ms a
    chart schema for that, in every worker; jsonschema-rs well under 1 ms. "No", or any doubt, leaves
    the schema to python-jsonschema, which has the last word and writes the messages."""
    fast_cls = _fast_class(cls)
    if fast_cls is None:
        return False
    try:
        validator = _META_VALIDATORS.get(cls.__name__)
        if validator is None:
            validator = _META_VALIDATORS[cls.__name__] = fast_cls(cls.META_SCHEMA, validate_formats=False)
        return bool(validator.is_valid(schema))
    except Exception:  # e.g. an integer too large for it: python-jsonschema decides
        return False


def _remembered_format(checker: Any, fmt: str) -> Callable[[Any], bool]:
    """checker.conforms(value, fmt), answered once per string: the units of a customer's product
    repeat its values (the same ingress host in every environment), and a format checker is a
    function of the value alone (python-jsonschema's: fqdn, idna, rfc3339...)."""
    known: dict[str, bool] = {}

    def conforms(value: Any) -> bool:
        if not isinstance(value, str) or len(value) > 256:
            return checker.conforms(value, fmt)
        found = known.get(value)
        if found is None:
            if len(known) >= 1 << 14:
                known.clear()
            found = known[value] = checker.conforms(value, fmt)
        return found

    return conforms


def builtin_schema(name: str) -> dict[str, Any]:
    text = resources.files("checks.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def extended_validator(name: str, extra: dict[str, Any] | None) -> Any:
    """The built-in schema, combined with a team's own additions from the settings file."""
    schema = builtin_schema(name)
    if extra:
        schema = {"$schema": schema["$schema"], "allOf": [schema, extra]}
    import jsonschema

    cls = jsonschema.Draft202012Validator
    return TwoStageValidator(with_safe_patterns(cls)(schema, format_checker=cls.FORMAT_CHECKER),
                             fast_validator(cls, schema, _no_retrieval))


def _no_retrieval(uri: str) -> Resource:
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # an attrs class mypy cannot read


# -- errors -> readable, located, secret-free messages -------------------------------------
def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_value(key: Any, value: Any) -> str:
    """Show a value only when it is short and its key does not smell of a secret."""
    if isinstance(value, (dict, list)):
        return "a map" if isinstance(value, dict) else "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(key, str) and _SECRETISH.search(key):
        return f"a {type(value).__name__} (value hidden)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else f"a {len(str(value))}-character {type(value).__name__}"


def leaf_error(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, the best-matching branch instead of a wall of sub-errors:
    prefer a branch whose type fits the value, then its deepest error."""
    from jsonschema.exceptions import best_match

    while error.validator in ("oneOf", "anyOf", "allOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
        depth = len(error.absolute_path)
        fitting = [errs for errs in branches.values()
                   if not any(e.validator == "type" and len(e.absolute_path) == depth for e in errs)]
        candidates = fitting[0] if len(fitting) == 1 else list(error.context)
        best = max(candidates, key=lambda e: len(e.absolute_path)) if len(fitting) == 1 \
            else best_match(candidates)
        if best is None or best is error:
            break
        error = best
    return error


def explain(error: ValidationError) -> tuple[KeyPath, str, str]:
    """(instance path to point at, message, keyword) for one validation error."""
    error = leaf_error(error)
    path: KeyPath = tuple(error.absolute_path)
    key = path[-1] if path else None
    keyword = str(error.validator)
    value = error.validator_value
    shown = describe_value(key, error.instance)
    where = format_key_path(path) or "(top level)"
    if keyword == "required":
        missing = [p for p in value if isinstance(error.instance, dict) and p not in error.instance]
        return path, f"{where}: missing required {'property' if len(missing) == 1 else 'properties'} " \
                     f"{', '.join(repr(m) for m in missing)}", keyword
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        extras = _unexpected(error)
        if extras:
            first = extras[0]
            return (*path, first), f"{format_key_path((*path, first))}: property not allowed by the schema" + (
                f" (also: {', '.join(extras[1:4])})" if len(extras) > 1 else ""), keyword
    if keyword == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        return path, f"{where}: must be {expected}, got {shown}", keyword
    if keyword in ("enum", "const"):
        allowed = value if keyword == "enum" else [value]
        return path, f"{where}: {shown} is not one of {_short(json.dumps(allowed), 120)}", keyword
    if keyword == "format":
        return path, f"{where}: {shown} is not a valid {value}", keyword
    if keyword == "pattern":
        return path, f"{where}: {shown} does not match {value!r}", keyword
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        return path, f"{where}: {shown} violates {keyword} {value}", keyword
    if keyword in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
                   "uniqueItems"):
        return path, f"{where}: fails {keyword} {value}", keyword
    if keyword in ("oneOf", "anyOf"):
        return path, f"{where}: matches none of the allowed forms ({keyword})", keyword
    if keyword == "not":
        return path, f"{where}: matches a form the schema forbids", keyword
    # Anything else: jsonschema's message, but never with the instance's value in it.
    return path, f"{where}: fails {keyword}", keyword


def _unexpected(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    props = schema.get("properties", {}) or {}
    patterns = list(schema.get("patternProperties", {}) or {})
    return [k for k in error.instance if k not in props and not any(matches(p, k) for p in patterns)]


def _unsafe_patterns(node: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str, str]]:
    """(where, pattern, why) of every `pattern` / `patternProperties` key RE2 cannot run."""
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            pattern = current.get("pattern")
            patterns: list[tuple[tuple[str, ...], str]] = [(("pattern",), pattern)] if isinstance(pattern, str) else []
            props = current.get("patternProperties")
            if isinstance(props, dict):
                patterns += [(("patternProperties", key), key) for key in props if isinstance(key, str)]
            for rel, text in patterns:
                try:
                    compile_untrusted(text)
                except UnsafePattern as exc:
                    yield (*where, *rel), text, str(exc)
            stack.extend(((value, (*where, key)) for key, value in current.items()
                          if isinstance(value, (dict, list))))
        elif isinstance(current, list):
            stack.extend(((value, (*where, i)) for i, value in enumerate(current) if isinstance(value, (dict, list))))


def located_in(doc: YamlDocument | None, path: KeyPath) -> Position | None:
    return doc.locate(path) if doc is not None else None
