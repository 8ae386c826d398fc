"""The subset of Go templates (with a few sprig functions) that ApplicationSets use in practice.

`render()` evaluates `{{ ... }}` actions over a parameter map. Anything outside the subset
raises `NotEvaluated` naming the expression: callers report it and never guess.
Legacy fasttemplate (`goTemplate: false`) is `render_legacy()`: `{{path.basename}}`,
`{{path[0]}}`, `{{values.x}}` looked up in flattened parameters.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<num>-?\d+)|(?P<field>(?:\.[\w-]+)+|\.)'
                    r"|(?P<var>\$[\w]*(?:\.[\w-]+)*)|(?P<name>[A-Za-z_]\w*)|(?P<pipe>\|)|(?P<lp>\()|(?P<rp>\)))")


class NotEvaluated(Exception):
    """A template construct outside the supported subset."""


class MissingKey(Exception):
    """A field the parameters do not have (reported when goTemplateOptions has missingkey=error)."""


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))  # not what Go prints; callers should use toJson
    return str(value)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError):
                raise NotEvaluated(f"index {key} out of range") from None
        elif isinstance(value, dict):
            value = value.get(key if isinstance(key, str) else str(key))
        else:
            raise NotEvaluated("index of a value that is neither a list nor a map")
    return value


def _printf(fmt: str, *args: Any) -> str:
    out, i = [], 0
    for piece in re.split(r"(%[sdvq%])", fmt):
        if piece in ("%s", "%d", "%v"):
            out.append(_text(args[i]) if i < len(args) else "%!s(MISSING)")
            i += 1
        elif piece == "%q":
            out.append(json.dumps(_text(args[i]) if i < len(args) else ""))
            i += 1
        elif piece == "%%":
            out.append("%")
        else:
            out.append(piece)
    return "".join(out)


FUNCTIONS: dict[str, Any] = {
    "index": _index,
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "toYaml": lambda v: yaml.safe_dump(v, default_flow_style=False).rstrip("\n"),
    "lower": lambda s: _text(s).lower(),
    "upper": lambda s: _text(s).upper(),
    "trim": lambda s: _text(s).strip(),
    "trunc": lambda n, s: _text(s)[: int(n)] if int(n) >= 0 else _text(s)[int(n):],
    "trimSuffix": lambda suf, s: _text(s).removesuffix(suf),
    "trimPrefix": lambda pre, s: _text(s).removeprefix(pre),
    "replace": lambda old, new, s: _text(s).replace(old, new),
    "default": lambda d, v=None: d if v in (None, "", [], {}, False, 0) else v,
    "quote": lambda s: json.dumps(_text(s)),
    "printf": _printf,
    "join": lambda sep, items: sep.join(_text(i) for i in items or []),
    "normalize": lambda s: re.sub(r"[^a-z0-9-.]", "-", _text(s).lower()),
}


@functools.lru_cache(maxsize=4096)
def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise NotEvaluated(expr)
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return out


# -- each action compiled into closures once, evaluated per Application ----------------------
# Errors are raised when an action is evaluated, in template order, as Go does
# (a missing key before a later unsupported construct).
_Eval = Any  # Callable[[params, strict], value]
_NO_INPUT = object()  # a command's piped argument when nothing is piped into it


def _fail(message: str) -> _Eval:
    def fail(*_: Any) -> Any:
        raise NotEvaluated(message)
    return fail


def _constant(value: Any) -> _Eval:
    return lambda params, strict: value


def _compile_operands(tokens: list[tuple[str, str]]) -> list[_Eval]:
    out: list[_Eval] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "lp":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += tokens[j][0] == "lp"
                depth -= tokens[j][0] == "rp"
                j += 1
            out.append(_compile_pipeline(tokens[i + 1: j - 1]))
            i = j
            continue
        if kind == "str":
            out.append((lambda params, strict, text=text: json.loads(text)) if text.startswith('"')
                       else _constant(text[1:-1]))
        elif kind == "num":
            out.append(_constant(int(text)))
        elif kind == "field":
            out.append(_field_getter(text))
        elif kind == "name" and text in ("true", "false"):
            out.append(_constant(text == "true"))
        else:
            out.append(_fail(text))
        i += 1
    return out


def _field_getter(path: str) -> _Eval:
    if path == ".":
        return lambda params, strict: params
    parts = path.strip(".").split(".")

    def get(params: Any, strict: bool) -> Any:
        value = params
        for part in parts:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif strict:
                raise MissingKey(path)
            else:
                return None
        return value
    return get


def _compile_command(tokens: list[tuple[str, str]]) -> Any:
    """A closure (params, strict, piped) -> value."""
    if not tokens:
        return _fail("empty command")
    kind, text = tokens[0]
    if kind == "name":
        fn = FUNCTIONS.get(text)
        if fn is None:
            return _fail(f"function {text}")
        operands = _compile_operands(tokens[1:])

        def call(params: Any, strict: bool, piped: Any) -> Any:
            args = [op(params, strict) for op in operands]
            if piped is not _NO_INPUT:
                args.append(piped)
            try:
                return fn(*args)
            except TypeError:
                raise NotEvaluated(f"{text} with {len(args)} arguments") from None
        return call
    if kind == "var":
        return _fail(f"variable {text}")
    operands = _compile_operands(tokens)
    joined = " ".join(t for _, t in tokens)

    def value(params: Any, strict: bool, piped: Any) -> Any:
        values = [op(params, strict) for op in operands]
        if len(values) != 1 or piped is not _NO_INPUT:
            raise NotEvaluated(joined)
        return values[0]
    return value


def _compile_pipeline(tokens: list[tuple[str, str]]) -> _Eval:
    commands: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for tok in tokens:
        if tok[0] == "pipe" and depth == 0:
            commands.append([])
            continue
        depth += tok[0] == "lp"
        depth -= tok[0] == "rp"
        commands[-1].append(tok)
    compiled = [_compile_command(c) for c in commands]
    if len(compiled) == 1:
        only = compiled[0]
        return lambda params, strict: only(params, strict, _NO_INPUT)

    def run(params: Any, strict: bool) -> Any:
        value: Any = _NO_INPUT
        for command in compiled:
            value = command(params, strict, value)
        return value
    return run


def _compile_action(body: str) -> _Eval:
    if not body or body.startswith(("/*", "if ", "range ", "with ", "define ", "template ", "block ", "end",
                                    "else")):
        return _fail(body or "empty action")
    try:
        tokens = _tokens(body)
    except NotEvaluated as exc:
        return _fail(str(exc))
    return _compile_pipeline(tokens)


@functools.lru_cache(maxsize=8192)
def _compile(template: str) -> tuple[tuple[str, _Eval | None], ...]:
    """A template split once into literal text and compiled actions (trim markers applied);
    an ApplicationSet renders the same few strings for thousands of Applications."""
    pieces: list[tuple[str, _Eval | None]] = []
    pos = 0
    for m in _ACTION.finditer(template):
        before = template[pos:m.start()]
        if m.group(1):
            before = before.rstrip()
        pieces.append((before, _compile_action(m.group(2).strip())))
        pos = m.end()
        if m.group(3):
            while pos < len(template) and template[pos].isspace():
                pos += 1
    pieces.append((template[pos:], None))
    return tuple(pieces)


def render(template: str, params: Any, strict: bool = False) -> str:
    """Render Go-template actions; raises NotEvaluated or (strict) MissingKey."""
    out = []
    for literal, action in _compile(template):
        out.append(literal)
        if action is not None:
            out.append(_text(action(params, strict)))
    return "".join(out)


_LEGACY = re.compile(r"\{\{\s*([\w.\-\[\]]+)\s*\}\}")


def render_legacy(template: str, flat: dict[str, str]) -> str:
    """fasttemplate: `{{key}}` replaced from flattened parameters; unknown keys are an error here."""
    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in flat:
            raise NotEvaluated(f"{{{{{key}}}}} (no such parameter)")
        return flat[key]

    if "{{" in _LEGACY.sub("", template):
        raise NotEvaluated(template)
    return _LEGACY.sub(repl, template)


def tree_renderer(value: Any) -> Any:
    """A function rendering `value` with a string renderer, or None when nothing in it is templated.

    Built once per template, it visits only the templated strings; untemplated subtrees are
    shared between the results (they are read, never changed)."""
    if isinstance(value, str):
        return (lambda fn: fn(value)) if "{{" in value else None
    if isinstance(value, dict):
        parts = [(k, tree_renderer(v)) for k, v in value.items()]
        if all(r is None for _, r in parts):
            return None
        return lambda fn: {k: (r(fn) if r is not None else value[k]) for k, r in parts}
    if isinstance(value, list):
        items = [tree_renderer(v) for v in value]
        if all(r is None for r in items):
            return None
        return lambda fn: [(r(fn) if r is not None else v) for r, v in zip(items, value, strict=True)]
    return None
