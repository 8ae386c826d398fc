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


def _field(params: Any, path: str, strict: bool) -> Any:
    if path == ".":
        return params
    value = params
    for part in path.strip(".").split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            if strict:
                raise MissingKey(path)
            return None
    return value


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


def _eval_pipeline(tokens: list[tuple[str, str]], params: Any, strict: bool) -> Any:
    commands: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for tok in tokens:
        if tok[0] == "pipe" and depth == 0:
            commands.append([])
            continue
        depth += tok[0] == "lp"
        depth -= tok[0] == "rp"
        commands[-1].append(tok)
    value: Any = _NO_INPUT
    for command in commands:
        value = _eval_command(command, params, strict, value)
    return value


_NO_INPUT = object()


def _operands(tokens: list[tuple[str, str]], params: Any, strict: bool) -> list[Any]:
    out, i = [], 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "lp":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += tokens[j][0] == "lp"
                depth -= tokens[j][0] == "rp"
                j += 1
            out.append(_eval_pipeline(tokens[i + 1: j - 1], params, strict))
            i = j
            continue
        if kind == "str":
            out.append(json.loads(text) if text.startswith('"') else text[1:-1])
        elif kind == "num":
            out.append(int(text))
        elif kind == "field":
            out.append(_field(params, text, strict))
        elif kind == "name" and text in ("true", "false"):
            out.append(text == "true")
        else:
            raise NotEvaluated(text)
        i += 1
    return out


def _eval_command(tokens: list[tuple[str, str]], params: Any, strict: bool, piped: Any) -> Any:
    if not tokens:
        raise NotEvaluated("empty command")
    kind, text = tokens[0]
    if kind == "name":
        fn = FUNCTIONS.get(text)
        if fn is None:
            raise NotEvaluated(f"function {text}")
        args = _operands(tokens[1:], params, strict)
        if piped is not _NO_INPUT:
            args.append(piped)
        try:
            return fn(*args)
        except TypeError:
            raise NotEvaluated(f"{text} with {len(args)} arguments") from None
    if kind == "var":
        raise NotEvaluated(f"variable {text}")
    values = _operands(tokens, params, strict)
    if len(values) != 1 or piped is not _NO_INPUT:
        raise NotEvaluated(" ".join(t for _, t in tokens))
    return values[0]


_Piece = tuple[str, str, bool]  # literal text before an action, the action's body, whether it is supported


@functools.lru_cache(maxsize=8192)
def _compile(template: str) -> tuple[_Piece, ...]:
    """A template split once into literal text and tokenized actions (trim markers applied);
    an ApplicationSet renders the same few strings for thousands of Applications."""
    pieces: list[_Piece] = []
    pos = 0
    for m in _ACTION.finditer(template):
        before = template[pos:m.start()]
        if m.group(1):
            before = before.rstrip()
        body = m.group(2).strip()
        unsupported = not body or body.startswith(("/*", "if ", "range ", "with ", "define ", "template ",
                                                   "block ", "end", "else"))
        pieces.append((before, body, not unsupported))
        pos = m.end()
        if m.group(3):
            while pos < len(template) and template[pos].isspace():
                pos += 1
    pieces.append((template[pos:], "", False))
    return tuple(pieces)


def render(template: str, params: Any, strict: bool = False) -> str:
    """Render Go-template actions; raises NotEvaluated or (strict) MissingKey."""
    pieces = _compile(template)
    out = []
    for literal, body, supported in pieces[:-1]:
        out.append(literal)
        if not supported:
            raise NotEvaluated(body or "empty action")
        out.append(_text(_eval_pipeline(_tokens(body), params, strict)))  # _tokens is cached too
    out.append(pieces[-1][0])
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


def render_tree(value: Any, fn) -> Any:
    """Apply a string renderer to every string in a YAML tree."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: render_tree(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, fn) for v in value]
    return value
