"""Go's way of printing values, for templates that ArgoCD evaluates in Go.

Values are parsed YAML/JSON as ArgoCD holds them: Go decodes every number of a
generator's parameters to float64 (`encoding/json` into `any`), template literals
and sprig's integer functions give ints. `format_value` is `fmt.Sprint` (`%v`),
`sprintf` is `fmt.Sprintf` for the verbs templates use, `to_json` is
`encoding/json.Marshal` (sorted keys, HTML-escaped, Go's float format).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any


class GoMissing:
    """An invalid reflect.Value: a map key that is not there (printed "<no value>")."""

    _instance: GoMissing | None = None

    def __new__(cls) -> GoMissing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = GoMissing()


def _shortest(f: float) -> tuple[str, str, int]:
    """(sign, digits, decimal exponent of the first digit) of the shortest repr that reads back."""
    sign, digit_tuple, exp = Decimal(repr(f)).as_tuple()
    all_digits = "".join(map(str, digit_tuple))
    digits = all_digits.rstrip("0") or "0"
    point = len(all_digits) + int(exp) - 1
    return ("-" if sign else ""), digits, point


def _plain(prefix: str, digits: str, point: int) -> str:
    if point < 0:
        return f"{prefix}0.{'0' * (-point - 1)}{digits}"
    if point + 1 >= len(digits):
        return prefix + digits + "0" * (point + 1 - len(digits))
    return f"{prefix}{digits[:point + 1]}.{digits[point + 1:]}"


def _exponent(prefix: str, digits: str, point: int, width: int) -> str:
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{prefix}{mant}e{'-' if point < 0 else '+'}{abs(point):0{width}d}"


def _special(f: float) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    return None


def format_float(f: float) -> str:
    """fmt's %v of a float64: strconv.FormatFloat(f, 'g', -1, 64), the shortest digits that read
    back, in exponent form when the decimal exponent is < -4 or >= 6 (strconv's rule for the
    shortest form (`1e+06`, `1.073741824e+09`, `1e-05`)."""
    special = _special(f)
    if special is not None:
        return special
    prefix, digits, point = _shortest(f)
    if point < -4 or point >= 6:
        return _exponent(prefix, digits, point, 2)
    return _plain(prefix, digits, point)


def format_value(v: Any, top: bool = True) -> str:
    """fmt.Sprint(v) as text/template prints an action's value."""
    if v is MISSING or (v is None and top):
        return "<no value>"
    if v is None:
        return "<nil>"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{format_value(k, False)}:{format_value(v[k], False)}"
                                 for k in sorted(v, key=_sort_key)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_value(i, False) for i in v) + "]"
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    return str(v)


def _sort_key(k: Any) -> tuple:
    return (0, k) if isinstance(k, (int, float)) and not isinstance(k, bool) else (1, str(k))


# Python type -> (Go type, reflect kind) of a template value; bool before int (a bool is an int in Python)
_GO_TYPES: tuple[tuple[type | tuple[type, ...], str, str], ...] = (
    (bool, "bool", "bool"),
    (int, "int", "int"),
    (float, "float64", "float64"),
    (str, "string", "string"),
    (dict, "map[string]interface {}", "map"),
    ((list, tuple), "[]interface {}", "slice"),
)


def _go_type(v: Any) -> tuple[str, str] | None:
    for python_type, go_type, kind in _GO_TYPES:
        if isinstance(v, python_type):
            return go_type, kind
    return None


def type_name(v: Any) -> str:
    """The Go type a value has in a template (for error messages and typeOf)."""
    if v is None or v is MISSING:
        return "<nil>"
    found = _go_type(v)
    return found[0] if found else type(v).__name__


def kind_name(v: Any) -> str:
    if v is None or v is MISSING:
        return "invalid"
    found = _go_type(v)
    return found[1] if found else "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, (list, tuple)):
        return "slice"
    return "invalid"


# -- encoding/json -------------------------------------------------------------------
def json_float(f: float) -> str:
    """encoding/json's float64: plain digits between 1e-6 and 1e21, else exponent form (`1e-07`)."""
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {format_float(f)}")
    special = _special(f)
    if special is not None:
        return special
    prefix, digits, point = _shortest(f)
    if abs(f) < 1e-6 or abs(f) >= 1e21:
        return _exponent(prefix, digits, point, 2)
    return _plain(prefix, digits, point)


_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_string(s: str, escape_html: bool = True) -> str:
    out = json.dumps(s, ensure_ascii=False)
    # Go escapes U+2028/2029 always and <, >, & unless SetEscapeHTML(false)
    out = out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if escape_html:
        out = out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return out


def to_json(v: Any, escape_html: bool = True, indent: str | None = None, _level: int = 0) -> str:
    """json.Marshal (or MarshalIndent with `indent`)."""
    if v is None or v is MISSING:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return json_float(v)
    if isinstance(v, str):
        return json_string(v, escape_html)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [(json_string(str(k), escape_html), to_json(v[k], escape_html, indent, _level + 1))
                 for k in sorted(v, key=str)]
        if indent is None:
            return "{" + ",".join(f"{k}:{val}" for k, val in items) + "}"
        pad = "\n" + indent * (_level + 1)
        return "{" + ",".join(f"{pad}{k}: {val}" for k, val in items) + "\n" + indent * _level + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        items2 = [to_json(i, escape_html, indent, _level + 1) for i in v]
        if indent is None:
            return "[" + ",".join(items2) + "]"
        pad = "\n" + indent * (_level + 1)
        return "[" + ",".join(f"{pad}{i}" for i in items2) + "\n" + indent * _level + "]"
    raise ValueError(f"json: unsupported type: {type_name(v)}")


# -- fmt.Sprintf -----------------------------------------------------------------------
_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


class FormatNotEmulated(Exception):
    """A printf verb this emulation does not know."""


def sprintf(fmt: str, *args: Any) -> str:
    out: list[str] = []
    pos = 0
    argi = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width_text, prec_text, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        width = None
        if width_text == "*":
            width = int(args[argi]) if argi < len(args) and isinstance(args[argi], int) else None
            argi += 1
        elif width_text:
            width = int(width_text)
        has_prec = "." in m.group(0)[: m.group(0).index(verb, len(flags) + 1) if verb else None]
        prec = None
        if prec_text == "*":
            prec = int(args[argi]) if argi < len(args) and isinstance(args[argi], int) else None
            argi += 1
        elif prec_text:
            prec = int(prec_text)
        elif has_prec:
            prec = 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        out.append(_pad(_format_one(verb, arg, flags, prec), width, flags, verb))
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={format_value(a, False)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _bad(verb: str, arg: Any) -> str:
    if arg is None or arg is MISSING:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={format_value(arg, False)})"


def _format_one(verb: str, arg: Any, flags: str, prec: int | None) -> str:
    if verb == "v":
        if isinstance(arg, float) and prec is not None:
            return f"{arg:.{prec}g}"
        return format_value(arg, False) if arg is not MISSING else "<nil>"
    if verb == "T":
        return type_name(arg)
    if verb == "s":
        if isinstance(arg, str):
            return arg[:prec] if prec is not None else arg
        if isinstance(arg, (dict, list)):
            return format_value(arg, False)
        return _bad(verb, arg)
    if verb == "q":
        if isinstance(arg, str):
            return json.dumps(arg, ensure_ascii="+" in flags)
        if isinstance(arg, int) and not isinstance(arg, bool):
            return "'" + chr(arg) + "'"
        return _bad(verb, arg)
    if verb == "t":
        return ("true" if arg else "false") if isinstance(arg, bool) else _bad(verb, arg)
    if verb in "dboxXcU" and isinstance(arg, int) and not isinstance(arg, bool):
        sign = "-" if arg < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
        n = abs(arg)
        if verb == "d":
            body = str(n)
        elif verb == "b":
            body = format(n, "b")
        elif verb == "o":
            body = ("0" if "#" in flags else "") + format(n, "o")
        elif verb == "x":
            body = ("0x" if "#" in flags else "") + format(n, "x")
        elif verb == "X":
            body = ("0X" if "#" in flags else "") + format(n, "X")
        elif verb == "c":
            return chr(arg)
        else:
            return f"U+{arg:04X}"
        if prec is not None:
            body = body.zfill(prec)
        return sign + body
    if verb in "xX" and isinstance(arg, str):
        text = arg.encode().hex()
        return text.upper() if verb == "X" else text
    if verb in "eEfFgG" and isinstance(arg, float):
        sign = "+" if "+" in flags and arg >= 0 else (" " if " " in flags and arg >= 0 else "")
        if verb in "gG" and prec is None:
            text = format_float(arg)
            return sign + (text.upper() if verb == "G" else text)
        p = 6 if prec is None else prec
        text = f"{arg:.{p}{verb}}"
        if verb in "eE":
            text = re.sub(r"([eE][-+])(\d)$", r"\g<1>0\2", text)
        return sign + text
    return _bad(verb, arg)


def _pad(text: str, width: int | None, flags: str, verb: str) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and verb in "dboxXeEfFgG" and not text.startswith("%!"):
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign):].rjust(width - len(sign), "0")
    return text.rjust(width)
