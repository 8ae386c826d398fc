"""JSON Schema keywords that match a schema's regular expressions, run by RE2 (engines/safe_regex.py).

python-jsonschema evaluates `pattern`, `patternProperties`, `additionalProperties` (which
skips what patternProperties matches) and `unevaluatedProperties` (which asks which keys
patternProperties evaluated, in every subschema it descends into) with Python's backtracking
`re`: `^(a+)+$` against a 40-character key takes hours. A schema comes from a repository, so
each of these keywords is replaced by one that asks RE2, linear in the input. A pattern RE2
cannot run was reported by compile_schema (schema/schema) and is skipped here: it matches nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from checks.engines.safe_regex import UnsafePattern, search


def matches(pattern: str, text: str) -> bool:
    """Whether the schema's `pattern` matches `text` (RE2); False for a pattern RE2 cannot run."""
    try:
        return search(pattern, text)
    except UnsafePattern:
        return False


def _is_valid(errors: Iterator[Any]) -> bool:
    return next(errors, None) is None


def evaluated_keys(validator: Any, instance: dict, schema: Any, draft2019: bool) -> list[Any]:
    """The keys of `instance` that `schema` evaluates, for unevaluatedProperties: python-jsonschema
    4.26's `find_evaluated_property_keys_by_schema` (jsonschema/_utils.py), rule for rule, with
    patternProperties matched by RE2. 2019-09 differs only in `$recursiveRef` for `$dynamicRef`:
    python-jsonschema's own 2019-09 variant (_legacy_keywords.py) takes the keys *named in* an
    `additionalProperties` schema as evaluated, which the JSON-Schema-Test-Suite's 2019-09 cases refute."""
    if validator.is_type(schema, "boolean") or not isinstance(schema, dict):
        return []
    keys: list[Any] = []
    references = ["$ref", "$recursiveRef" if draft2019 else "$dynamicRef"]
    for keyword in references:
        if keyword not in schema:
            continue
        if keyword == "$recursiveRef":
            from referencing.jsonschema import lookup_recursive_ref

            resolved = lookup_recursive_ref(validator._resolver)
        else:
            resolved = validator._resolver.lookup(schema[keyword])
        keys += evaluated_keys(validator.evolve(schema=resolved.contents, _resolver=resolved.resolver),
                               instance, resolved.contents, draft2019)
    properties: Any = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys += properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        subschema = schema.get(keyword)
        if subschema is not None:
            keys += [key for key, value in instance.items() if _is_valid(validator.descend(value, subschema))]
    if "patternProperties" in schema:
        for key in instance:
            keys += [key for pattern in schema["patternProperties"] if isinstance(key, str) and matches(pattern, key)]
    for name, subschema in (schema.get("dependentSchemas") or {}).items():
        if name in instance:
            keys += evaluated_keys(validator, instance, subschema, draft2019)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _is_valid(validator.descend(instance, subschema)):
                keys += evaluated_keys(validator, instance, subschema, draft2019)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys += evaluated_keys(validator, instance, schema["if"], draft2019)
            if "then" in schema:
                keys += evaluated_keys(validator, instance, schema["then"], draft2019)
        elif "else" in schema:
            keys += evaluated_keys(validator, instance, schema["else"], draft2019)
    return keys


@functools.lru_cache(maxsize=16)
def with_safe_patterns(cls: Any) -> Any:
    """`cls` with every keyword that matches a schema pattern run by RE2."""
    import jsonschema
    from jsonschema.exceptions import ValidationError as Invalid

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Invalid]:
        if validator.is_type(instance, "string") and isinstance(patrn, str):
            try:
                if not search(patrn, instance):
                    yield Invalid(f"{instance!r} does not match {patrn!r}")
            except UnsafePattern:
                return

    def pattern_properties(validator: Any, patterns: dict, instance: Any, schema: Any) -> Iterator[Invalid]:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in patterns.items():
            for k, v in instance.items():
                if isinstance(k, str) and matches(patrn, k):
                    yield from validator.descend(v, subschema, path=k, schema_path=patrn)

    def additional_properties(validator: Any, extra_schema: Any, instance: Any, schema: Any) -> Iterator[Invalid]:
        # jsonschema's own, with the patternProperties lookup through RE2
        if not validator.is_type(instance, "object"):
            return
        props = schema.get("properties", {}) or {}
        patterns = list(schema.get("patternProperties", {}) or {})
        extras = [k for k in instance if k not in props and not any(matches(p, str(k)) for p in patterns)]
        if validator.is_type(extra_schema, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], extra_schema, path=extra)
        elif not extra_schema and extras:
            joined = ", ".join(repr(each) for each in sorted(extras, key=str))
            yield Invalid(f"Additional properties are not allowed ({joined} unexpected)")

    draft2019 = cls.META_SCHEMA.get("$schema", "").endswith("2019-09/schema")

    def unevaluated_properties(validator: Any, unevaluated: Any, instance: Any, schema: Any) -> Iterator[Invalid]:
        # jsonschema's own (_keywords.unevaluatedProperties), with evaluated_keys above
        if not validator.is_type(instance, "object"):
            return
        evaluated = evaluated_keys(validator, instance, schema, draft2019)
        bad = [key for key in instance if key not in evaluated
               and not _is_valid(validator.descend(instance[key], unevaluated, path=key, schema_path=key))]
        if not bad:
            return
        verb = "was" if len(bad) == 1 else "were"
        if unevaluated is False:
            joined = ", ".join(repr(each) for each in sorted(bad, key=str))
            yield Invalid(f"Unevaluated properties are not allowed ({joined} {verb} unexpected)")
        else:
            joined = ", ".join(repr(each) for each in bad)
            yield Invalid("Unevaluated properties are not valid under the given schema "
                          f"({joined} {verb} unevaluated and invalid)")

    keywords = {"pattern": pattern, "patternProperties": pattern_properties,
                "additionalProperties": additional_properties}
    if "unevaluatedProperties" in cls.VALIDATORS:
        keywords["unevaluatedProperties"] = unevaluated_properties
    return jsonschema.validators.extend(cls, keywords)
