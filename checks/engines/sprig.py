"""The functions an ApplicationSet template can call: Go's text/template builtins, the
sprig v3.3.0 functions (`sprig.GenericFuncMap()`) and ArgoCD's own, as ArgoCD v3.5
sets them up (`applicationset/utils/utils.go` `init()`): `env`, `expandenv` and
`getHostByName` removed; `normalize`, `slugify`, `toYaml`, `fromYaml`, `fromYamlArray`
added.

Each entry is (function, parameter kinds, kind of the variadic rest or None); kinds:
`a` any (interface{}), `v` a builtin's reflect.Value, `s` string, `i` int, `b` bool,
`f` float64. A function Go would reject the arguments of raises `GoError`.

Functions whose result depends on the clock, randomness or keys (`now`, `randAlpha`,
`uuidv4`, `genPrivateKey`...) and a few rarely used ones are not emulated: calling one
raises `NotEvaluated` naming it; the caller reports that.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import re
import urllib.parse
import zlib
from typing import Any

import re2
import yaml

from checks.engines.goerrors import GoError, NotEvaluated, truth
from checks.engines.gofmt import MISSING, format_value, kind_name, sprintf, to_json, type_name


# -- helpers ---------------------------------------------------------------------------
def strval(v: Any) -> str:
    """sprig's strval: strings as they are, everything else as fmt's %v."""
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return format_value(v, False)


def strslice(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        return [strval(i) for i in v if i is not None]
    return [strval(v)]


def to_int64(v: Any) -> int:
    """cast.ToInt64: numbers truncated, bools 0/1, strings parsed (0 when they do not parse)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(2 ** 63)
        return int(v)
    if isinstance(v, str):
        text = v.strip()
        if "." in text:
            head, _, tail = text.partition(".")
            if tail.strip("0") == "":
                text = head
        try:
            return int(text, 0)
        except ValueError:
            return 0
    return 0


def to_float64(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return 0.0
    return 0.0


def empty(v: Any) -> bool:
    return not truth(v)


def _list(v: Any, name: str) -> list:
    if isinstance(v, list):
        return v
    raise GoError(f"Cannot find {name} on type {type_name(v)}")


def go_clean(p: str) -> str:
    """path.Clean."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    out: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."


def go_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


def go_dir(p: str) -> str:
    head = p[: p.rfind("/") + 1]
    return go_clean(head)


def go_ext(p: str) -> str:
    for i in range(len(p) - 1, -1, -1):
        if p[i] == "/":
            return ""
        if p[i] == ".":
            return p[i:]
    return ""


# a fixed character class (no backtracking): Python's re, 15x faster than re2's wrapper per call
_NOT_IN_NAME = re.compile(r"[^-a-z0-9.]")


def sanitize_name(name: str) -> str:
    """ArgoCD's SanitizeName (`normalize`): lower case, [^-a-z0-9.] to '-', at most 253, ends trimmed."""
    name = _NOT_IN_NAME.sub("-", name.lower())
    return name[:253].strip("-.")


def slugify(*args: Any) -> str:
    """ArgoCD's SlugifyName over gosimple/slug: `slugify [maxSize] [smartTruncate] name`."""
    max_size, smart, name = 50, True, ""
    for idx, arg in enumerate(args):
        if idx == len(args) - 1:
            if not isinstance(arg, str):
                raise GoError(f"interface conversion: interface {{}} is {type_name(arg)}, not string")
            name = arg
        elif idx == 0:
            if not isinstance(arg, int) or isinstance(arg, bool):
                raise GoError(f"interface conversion: interface {{}} is {type_name(arg)}, not int")
            max_size = arg
        elif idx == 1:
            if not isinstance(arg, bool):
                raise GoError(f"interface conversion: interface {{}} is {type_name(arg)}, not bool")
            smart = arg
    text = sanitize_name(name).strip()
    text = text.replace("&", "and").replace("@", "at")
    text = re2.sub(r"[^a-zA-Z0-9-_]", "-", text.lower())
    text = re2.sub(r"-+", "-", text)
    text = text.strip("-_")
    if max_size > 0 and smart:
        if len(text) > max_size:
            words = [w + "-" for w in text.split("-")]
            words[-1] = words[-1][:-1]
            if len(words[0]) > max_size:
                return words[0][:max_size]
            truncated = ""
            for word in words:
                if len(truncated) + len(word) - 1 <= max_size:
                    truncated += word
                else:
                    break
            text = truncated.strip("-")
    elif max_size > 0 and len(text) > max_size:
        text = text[:max_size].strip("-_")
    return text


# -- YAML and JSON as ArgoCD reads and writes them (sigs.k8s.io/yaml: through JSON) ----------
def _jsonish(v: Any) -> Any:
    """What sigs.k8s.io/yaml makes of a parsed YAML value: JSON types, numbers as float64."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {str(k) if not isinstance(k, bool) else ("true" if k else "false"): _jsonish(x)
                for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonish(x) for x in v]
    return str(v)


def load_yaml_like_argocd(text: str) -> Any:
    # the same text again and again (`elementsYaml: "{{ .products | toJson }}"` rendered per customer):
    # loaded once, and each caller given its own copy
    loaded = _load_yaml_cached(text) if len(text) <= 65536 else _load_yaml(text)
    if isinstance(loaded, GoError):
        raise GoError(str(loaded))
    return _copy_data(loaded)


def _load_yaml(text: str) -> Any:
    """The value, or the GoError loading it raises."""
    try:
        value = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        return GoError(f"error converting YAML to JSON: {str(exc).splitlines()[0]}")
    return _jsonish(value)


_load_yaml_cached = functools.lru_cache(maxsize=1024)(_load_yaml)


def _copy_data(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _copy_data(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy_data(x) for x in v]
    return v


def _yaml_scalar_ints(v: Any) -> Any:
    """sigs.k8s.io/yaml writes a float64 that is an integer as an integer."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if isinstance(v, dict):
        return {k: _yaml_scalar_ints(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_yaml_scalar_ints(x) for x in v]
    return v


def to_yaml(v: Any) -> str:
    if v is None or v is MISSING:
        return "null"
    try:
        to_json(v)  # what json.Marshal rejects, sigs' Marshal rejects
    except ValueError as exc:
        raise GoError(f"error marshaling into JSON: {exc}") from None
    text = yaml.safe_dump(_yaml_scalar_ints(v), default_flow_style=False, sort_keys=True, allow_unicode=True,
                          width=1 << 30)
    return text.removesuffix("\n...\n").removesuffix("\n")


def from_yaml(text: str) -> dict:
    value = load_yaml_like_argocd(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GoError(f"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind_name(value)} "
                      "into Go value of type map[string]interface {}")
    return value


def from_yaml_array(text: str) -> list:
    value = load_yaml_like_argocd(text)
    if value is None:
        return []
    if not isinstance(value, list):
        raise GoError(f"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind_name(value)} "
                      "into Go value of type []interface {}")
    return value


def _from_json(text: str, must: bool) -> Any:
    try:
        return _jsonish(json.loads(text))
    except (ValueError, RecursionError) as exc:
        if must:
            raise GoError(str(exc)) from None
        return None


def _to_json(v: Any, must: bool, **kw: Any) -> str:
    try:
        return to_json(v, **kw)
    except ValueError as exc:
        if must:
            raise GoError(str(exc)) from None
        return ""


# -- builtins (text/template/funcs.go) ----------------------------------------------------
def _index(item: Any, *indexes: Any) -> Any:
    if item is None or item is MISSING:
        raise GoError("index of untyped nil")
    for index in indexes:
        if item is None:
            raise GoError("index of nil pointer")
        if isinstance(item, (list, str)):
            if isinstance(index, bool) or not isinstance(index, int):
                raise GoError(f"cannot index slice/array with type {type_name(index)}")
            if not 0 <= index < len(item if isinstance(item, list) else item.encode()):
                raise GoError(f"index out of range: {index}")
            item = item[index] if isinstance(item, list) else item.encode()[index]
        elif isinstance(item, dict):
            if not isinstance(index, str):
                if index is None:
                    raise GoError("value is nil; should be of type string")
                raise GoError(f"value has type {type_name(index)}; should be string")
            item = item.get(index)
        else:
            raise GoError(f"can't index item of type {type_name(item)}")
        if type(item) is int:
            item = float(item)
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, (list, str)):
        raise GoError(f"can't slice item of type {type_name(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise GoError("cannot 3-index slice a string")
    size = len(item) if isinstance(item, list) else len(item.encode())
    idx = [0, size]
    for i, index in enumerate(indexes):
        if isinstance(index, bool) or not isinstance(index, int):
            raise GoError(f"cannot index slice/array with type {type_name(index)}")
        if not 0 <= index <= size:
            raise GoError(f"index out of range: {index}")
        if i < 2:
            idx[i] = index
    if idx[0] > idx[1]:
        raise GoError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if isinstance(item, str):
        return item.encode()[idx[0]:idx[1]].decode("utf-8", "replace")
    return item[idx[0]:idx[1]]


def _len(item: Any) -> int:
    if item is None or item is MISSING:
        raise GoError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, dict)):
        return len(item)
    raise GoError(f"len of type {type_name(item)}")


def _basic(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(arg1: Any, *args: Any) -> bool:
    if not args:
        raise GoError("missing argument for comparison")
    k1 = _basic(arg1)
    for arg in args:
        k2 = _basic(arg)
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise GoError("incompatible types for comparison")
            truth_ = False
        elif k1 == "other":
            if isinstance(arg1, (dict, list)) or isinstance(arg, (dict, list)):
                raise GoError(f"non-comparable type {type_name(arg1)}")
            truth_ = (arg1 is None) == (arg is None)
        else:
            truth_ = arg1 == arg
        if truth_:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _basic(a), _basic(b)
    if ka in ("bool", "other") or kb in ("bool", "other"):
        raise GoError("invalid type for comparison")
    if ka != kb:
        raise GoError("incompatible types for comparison")
    return a < b


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _print(*args: Any) -> str:
    # fmt.Sprint: a space between operands when neither is a string
    out: list[str] = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(a, False))
    return "".join(out)


def _printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, *args)


def _html(*args: Any) -> str:
    text = _print(*args) if len(args) != 1 or not isinstance(args[0], str) else args[0]
    return (text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("\x00", "\ufffd"))


def _urlquery(*args: Any) -> str:
    text = _print(*args) if len(args) != 1 or not isinstance(args[0], str) else args[0]
    return urllib.parse.quote_plus(text, safe="")


NOT_EMULATED: set[str] = set()


def _not_emulated(name: str):
    NOT_EMULATED.add(name)

    def not_emulated(*_: Any) -> Any:
        raise NotEvaluated(f"function {name} is not emulated")
    return not_emulated


# -- sprig -----------------------------------------------------------------------------------
def _trunc(c: int, s: str) -> str:
    if c < 0 and len(s) + c > 0:
        return s[len(s) + c:]
    if c >= 0 and len(s) > c:
        return s[:c]
    return s


def _substr(start: int, end: int, s: str) -> str:
    if start < 0:
        return s[:end] if end >= 0 else s[:0]
    if end < 0 or end > len(s):
        return s[start:]
    if start > end:
        raise GoError(f"slice bounds out of range [{start}:{end}]")
    return s[start:end]


def _abbrev(width: int, s: str) -> str:
    if width < 4:
        return s
    if len(s) <= width:
        return s
    return s[: width - 3] + "..."


def _title(s: str) -> str:
    out = []
    prev = " "
    for ch in s:
        out.append(ch.upper() if not (prev.isalnum() or prev == "_" or prev == "'") else ch)
        prev = ch
    return "".join(out)


def _untitle(s: str) -> str:
    out = []
    prev = " "
    for ch in s:
        out.append(ch.lower() if prev.isspace() else ch)
        prev = ch
    return "".join(out)


def _quote(*args: Any) -> str:
    return " ".join(json.dumps(strval(a), ensure_ascii=False) for a in args if a is not None)


def _squote(*args: Any) -> str:
    return " ".join(f"'{strval(a)}'" for a in args if a is not None)


def _cat(*args: Any) -> str:
    return " ".join(format_value(a, False) for a in args if a is not None)


def _indent(spaces: int, v: str) -> str:
    pad = " " * max(spaces, 0)
    return pad + v.replace("\n", "\n" + pad)


def _nindent(spaces: int, v: str) -> str:
    return "\n" + _indent(spaces, v)


def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _split(sep: str, orig: str) -> dict:
    return {f"_{i}": part for i, part in enumerate(_go_split(orig, sep))}


def _splitn(sep: str, n: int, orig: str) -> dict:
    return {f"_{i}": part for i, part in enumerate(_go_splitn(orig, sep, n))}


def _go_split(s: str, sep: str) -> list[str]:
    if sep == "":
        return list(s)
    return s.split(sep)


def _go_splitn(s: str, sep: str, n: int) -> list[str]:
    if n == 0:
        return []
    if n < 0:
        return _go_split(s, sep)
    if sep == "":
        chars = list(s)
        return [*chars[: n - 1], "".join(chars[n - 1:])] if len(chars) > n else chars
    return s.split(sep, n - 1)


def _until(count: int) -> list[int]:
    step = 1 if count >= 0 else -1
    return list(range(0, count, step))


def _until_step(start: int, stop: int, step: int) -> list[int]:
    if step == 0 or (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return []
    return list(range(start, stop, step))


def _seq(*params: int) -> str:
    if len(params) == 0:
        return ""
    if len(params) == 1:
        end = params[0]
        start, step = 1, (1 if end >= 1 else -1)
    elif len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
    elif len(params) == 3:
        start, step, end = params
        if step == 0 or (end < start and step > 0) or (end > start and step < 0):
            return ""
    else:
        return ""
    out = []
    i = start
    while (step > 0 and i <= end) or (step < 0 and i >= end):
        out.append(str(i))
        i += step
    return " ".join(out)


def _div(a: Any, b: Any) -> int:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise GoError("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _mod(a: Any, b: Any) -> int:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise GoError("runtime error: integer divide by zero")
    return x - _div(x, y) * y


def _mul(a: Any, *v: Any) -> int:
    val = to_int64(a)
    for b in v:
        val *= to_int64(b)
    return val


def _max(a: Any, *i: Any) -> int:
    return max([to_int64(a), *(to_int64(x) for x in i)])


def _min(a: Any, *i: Any) -> int:
    return min([to_int64(a), *(to_int64(x) for x in i)])


def _maxf(a: Any, *i: Any) -> float:
    return max([to_float64(a), *(to_float64(x) for x in i)])


def _minf(a: Any, *i: Any) -> float:
    return min([to_float64(a), *(to_float64(x) for x in i)])


def _round(a: Any, p: int, *r: float) -> float:
    round_on = r[0] if r else 0.5
    val = to_float64(a)
    pow_ = 10.0 ** p
    digit = pow_ * val
    _, div = math.modf(digit)
    rounded = math.ceil(digit) if div >= round_on else math.floor(digit)
    return rounded / pow_


def _default(d: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return d
    return given[0]


def _coalesce(*v: Any) -> Any:
    for val in v:
        if not empty(val):
            return val
    return None


def _ternary(vt: Any, vf: Any, v: bool) -> Any:
    return vt if v else vf


def _deep_copy(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _deep_copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_deep_copy(x) for x in v]
    return v


def _dict(*v: Any) -> dict:
    out: dict = {}
    for i in range(0, len(v), 2):
        key = strval(v[i])
        out[key] = v[i + 1] if i + 1 < len(v) else ""
    return out


def _get(d: Any, key: str) -> Any:
    if not isinstance(d, dict):
        raise GoError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(d)}")
    return d.get(key, "")


def _set(d: Any, key: str, value: Any) -> dict:
    if not isinstance(d, dict):
        raise GoError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(d)}")
    d[key] = value
    return d


def _unset(d: Any, key: str) -> dict:
    if not isinstance(d, dict):
        raise GoError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(d)}")
    d.pop(key, None)
    return d


def _has_key(d: Any, key: str) -> bool:
    if not isinstance(d, dict):
        raise GoError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(d)}")
    return key in d


def _maps(args: tuple, name: str) -> list[dict]:
    for a in args:
        if not isinstance(a, dict):
            raise GoError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(a)}")
    return list(args)


def _pluck(name: str, *d: Any) -> list:
    return [m[name] for m in _maps(d, "pluck") if name in m]


def _keys(*d: Any) -> list[str]:
    # Go ranges over maps in random order; sorted here (`keys | sortAlpha` is exact either way)
    return [k for m in _maps(d, "keys") for k in sorted(m)]


def _values(d: Any) -> list:
    return [d[k] for k in sorted(_maps((d,), "values")[0])]


def _pick(d: Any, *keys: str) -> dict:
    m = _maps((d,), "pick")[0]
    return {k: m[k] for k in keys if k in m}


def _omit(d: Any, *keys: str) -> dict:
    m = _maps((d,), "omit")[0]
    return {k: v for k, v in m.items() if k not in keys}


def _merge_into(dst: dict, src: dict, override: bool) -> None:
    for k, v in src.items():
        if k in dst and isinstance(dst[k], dict) and isinstance(v, dict):
            _merge_into(dst[k], v, override)
        elif k not in dst or (override and not empty(v)) or (empty(dst[k]) and not override):
            dst[k] = v


def _merge(dst: Any, *srcs: Any) -> dict:
    d = _maps((dst, *srcs), "merge")[0]
    for s in srcs:
        _merge_into(d, s, False)
    return d


def _merge_overwrite(dst: Any, *srcs: Any) -> dict:
    d = _maps((dst, *srcs), "mergeOverwrite")[0]
    for s in srcs:
        _merge_into(d, s, True)
    return d


def _push(lst: Any, v: Any) -> list:
    return [*_list(lst, "push"), v]


def _prepend(lst: Any, v: Any) -> list:
    return [v, *_list(lst, "prepend")]


def _first(lst: Any) -> Any:
    if lst is None:
        return None
    items = _list(lst, "first")
    return items[0] if items else None


def _last(lst: Any) -> Any:
    if lst is None:
        return None
    items = _list(lst, "last")
    return items[-1] if items else None


def _rest(lst: Any) -> Any:
    if lst is None:
        return None
    items = _list(lst, "rest")
    return items[1:] if items else None


def _initial(lst: Any) -> Any:
    if lst is None:
        return None
    items = _list(lst, "initial")
    return items[:-1] if items else None


def _reverse(lst: Any) -> list:
    return list(reversed(_list(lst, "reverse")))


def _uniq(lst: Any) -> list:
    out: list = []
    for item in _list(lst, "uniq"):
        if item not in out:
            out.append(item)
    return out


def _without(lst: Any, *omit: Any) -> list:
    return [i for i in _list(lst, "without") if i not in omit]


def _has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    return needle in _list(haystack, "has")


def _sprig_slice(lst: Any, *indices: Any) -> list:
    items = _list(lst, "slice")
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(items)
    if not 0 <= start <= end <= len(items):
        raise GoError(f"slice bounds out of range [{start}:{end}]")
    return items[start:end]


def _concat(*lists: Any) -> list:
    out: list = []
    for lst in lists:
        out.extend(_list(lst, "concat"))
    return out


def _compact(lst: Any) -> list:
    return [i for i in _list(lst, "compact") if not empty(i)]


def _chunk(size: int, lst: Any) -> list:
    items = _list(lst, "chunk")
    if size <= 0:
        raise GoError("chunk size must be positive")
    return [items[i:i + size] for i in range(0, len(items), size)]


def _dig(*ps: Any) -> Any:
    if len(ps) < 3:
        raise GoError("dig needs at least three arguments")
    dict_ = ps[-1]
    default = ps[-2]
    keys = ps[:-2]
    if not isinstance(dict_, dict):
        raise GoError(f"interface conversion: interface {{}} is {type_name(dict_)}, not map[string]interface {{}}")
    cur: Any = dict_
    for i, key in enumerate(keys):
        if not isinstance(key, str):
            raise GoError(f"interface conversion: interface {{}} is {type_name(key)}, not string")
        if not isinstance(cur, dict):
            raise GoError(f"interface conversion: interface {{}} is {type_name(cur)}, not map[string]interface {{}}")
        if key not in cur:
            return default
        cur = cur[key]
        if i == len(keys) - 1:
            return cur
    return cur


def _sort_alpha(lst: Any) -> list[str]:
    if isinstance(lst, list):
        return sorted(strslice(lst))
    return [strval(lst)]


def _join(sep: str, v: Any) -> str:
    return sep.join(strslice(v))


def _regex(pattern: str) -> Any:
    try:
        return re2.compile(pattern)
    except re2.error as exc:
        raise GoError(f"error parsing regexp: {exc}") from None


def _expand(m: Any, template: str) -> str:
    """Go's Regexp.Expand: $name / ${name} (longest [A-Za-z0-9_]+; digits: a group number),
    $$ a dollar; an unknown or unmatched group is empty."""
    out: list[str] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        rest = template[j + 1:]
        if rest.startswith("$"):
            out.append("$")
            i = j + 2
            continue
        braced = rest.startswith("{")
        body = rest[1:] if braced else rest
        k = 0
        while k < len(body) and (body[k].isascii() and (body[k].isalnum() or body[k] == "_")):
            k += 1
        if k == 0 or (braced and not body[k:].startswith("}")):
            out.append("$")
            i = j + 1
            continue
        out.append(_group(m, body[:k]))
        i = j + 1 + k + (2 if braced else 0)
    return "".join(out)


def _regex_replace_all(regex: str, s: str, repl: str) -> str:
    return _regex(regex).sub(lambda m: _expand(m, repl), s)


def _group(m: Any, name: str) -> str:
    try:
        return m.group(int(name) if name.isdigit() else name) or ""
    except (IndexError, KeyError, ValueError, re2.error):
        return ""


def _regex_find_all(regex: str, s: str, n: int, must: bool) -> list[str]:
    r = _regex(regex)
    found = [m.group(0) for m in r.finditer(s)]
    return found if n < 0 else found[:n]


def _regex_split(regex: str, s: str, n: int) -> list[str]:
    r = _regex(regex)
    if n == 0:
        return []
    if regex and len(s) > 0 and r.pattern == "":
        return list(s)
    parts: list[str] = []
    last = 0
    for m in r.finditer(s):
        if n > 0 and len(parts) == n - 1:
            break
        if m.end() == 0:
            continue
        parts.append(s[last:m.start()])
        last = m.end()
    parts.append(s[last:])
    return parts


def _safe(fn, default: Any):
    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except GoError:
            return default
    return run


def _b64dec(s: str) -> str:
    try:
        return base64.b64decode(s, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        return str(exc)


def _b32dec(s: str) -> str:
    try:
        return base64.b32decode(s).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        return str(exc)


def _type_is(target: str, src: Any) -> bool:
    return target == type_name(src)


def _kind_is(target: str, src: Any) -> bool:
    return target == kind_name(src)


def _fail(msg: str) -> str:
    raise GoError(msg)


def _to_string(v: Any) -> str:
    return strval(v) if v is not MISSING else "<nil>"


def _nospace(s: str) -> str:
    return "".join(ch for ch in s if not ch.isspace())


def _initials(s: str) -> str:
    return "".join(w[0] for w in s.split() if w)


def _swapcase(s: str) -> str:
    return s.swapcase()


A, V, S, N, B = "a", "v", "s", "i", "b"  # any, builtin value, string, int, bool

FUNCTIONS: dict[str, tuple[Any, tuple[str, ...], str | None]] = {
    # text/template builtins
    "and": (None, (V,), V), "or": (None, (V,), V),
    "not": (lambda a: not truth(a), (V,), None),
    "len": (_len, (V,), None), "index": (_index, (V,), V), "slice": (_sprig_slice, (A,), A),
    "eq": (_eq, (V,), V), "ne": (_ne, (V, V), None), "lt": (_lt, (V, V), None),
    "le": (_le, (V, V), None), "gt": (lambda a, b: _lt(b, a), (V, V), None),
    "ge": (lambda a, b: _le(b, a), (V, V), None),
    "print": (_print, (), A), "printf": (_printf, (S,), A),
    "println": (lambda *a: " ".join(format_value(x, False) for x in a) + "\n", (), A),
    "html": (_html, (), A), "urlquery": (_urlquery, (), A),
    "js": (_not_emulated("js"), (), A), "call": (_not_emulated("call"), (V,), V),
    # sprig: strings
    "hello": (lambda: "Hello!", (), None),
    "abbrev": (_abbrev, (N, S), None), "abbrevboth": (_not_emulated("abbrevboth"), (N, N, S), None),
    "trunc": (_trunc, (N, S), None), "trim": (lambda s: s.strip(" \t\n\r\v\f\x85\xa0"), (S,), None),
    "upper": (lambda s: s.upper(), (S,), None), "lower": (lambda s: s.lower(), (S,), None),
    "title": (_title, (S,), None), "untitle": (_untitle, (S,), None), "substr": (_substr, (N, N, S), None),
    "repeat": (lambda count, s: s * max(count, 0) if count >= 0 else _fail("strings: negative Repeat count"),
               (N, S), None),
    "trimall": (lambda a, b: b.strip(a), (S, S), None), "trimAll": (lambda a, b: b.strip(a), (S, S), None),
    "trimSuffix": (lambda a, b: b.removesuffix(a), (S, S), None),
    "trimPrefix": (lambda a, b: b.removeprefix(a), (S, S), None),
    "nospace": (_nospace, (S,), None), "initials": (_initials, (S,), None),
    "swapcase": (_swapcase, (S,), None),
    "shuffle": (_not_emulated("shuffle"), (S,), None),
    "snakecase": (_not_emulated("snakecase"), (S,), None),
    "camelcase": (_not_emulated("camelcase"), (S,), None),
    "kebabcase": (_not_emulated("kebabcase"), (S,), None),
    "wrap": (_not_emulated("wrap"), (N, S), None), "wrapWith": (_not_emulated("wrapWith"), (N, S, S), None),
    "contains": (lambda sub, s: sub in s, (S, S), None),
    "hasPrefix": (lambda p, s: s.startswith(p), (S, S), None),
    "hasSuffix": (lambda p, s: s.endswith(p), (S, S), None),
    "quote": (_quote, (), A), "squote": (_squote, (), A), "cat": (_cat, (), A),
    "indent": (_indent, (N, S), None), "nindent": (_nindent, (N, S), None),
    "replace": (lambda old, new, src: src.replace(old, new), (S, S, S), None),
    "plural": (_plural, (S, S, N), None),
    "sha1sum": (lambda s: hashlib.sha1(s.encode()).hexdigest(), (S,), None),  # noqa: S324 -- sprig's own
    "sha256sum": (lambda s: hashlib.sha256(s.encode()).hexdigest(), (S,), None),
    "adler32sum": (lambda s: str(zlib.adler32(s.encode())), (S,), None),
    "toString": (_to_string, (A,), None),
    "atoi": (lambda a: int(a) if re2.fullmatch(r"[+-]?[0-9]+", a) else 0, (S,), None),
    "int64": (to_int64, (A,), None), "int": (to_int64, (A,), None), "float64": (to_float64, (A,), None),
    "seq": (_seq, (), N), "toDecimal": (_not_emulated("toDecimal"), (A,), None),
    "split": (_split, (S, S), None), "splitList": (lambda sep, orig: _go_split(orig, sep), (S, S), None),
    "splitn": (_splitn, (S, N, S), None), "toStrings": (strslice, (A,), None),
    "until": (_until, (N,), None), "untilStep": (_until_step, (N, N, N), None),
    # arithmetic
    "add1": (lambda i: to_int64(i) + 1, (A,), None),
    "add": (lambda *i: sum(to_int64(x) for x in i), (), A),
    "sub": (lambda a, b: to_int64(a) - to_int64(b), (A, A), None),
    "div": (_div, (A, A), None), "mod": (_mod, (A, A), None), "mul": (_mul, (A,), A),
    "randInt": (_not_emulated("randInt"), (N, N), None),
    "add1f": (_not_emulated("add1f"), (A,), None), "addf": (_not_emulated("addf"), (), A),
    "subf": (_not_emulated("subf"), (A,), A), "divf": (_not_emulated("divf"), (A,), A),
    "mulf": (_not_emulated("mulf"), (A,), A),
    "biggest": (_max, (A,), A), "max": (_max, (A,), A), "min": (_min, (A,), A),
    "maxf": (_maxf, (A,), A), "minf": (_minf, (A,), A),
    "ceil": (lambda a: float(math.ceil(to_float64(a))), (A,), None),
    "floor": (lambda a: float(math.floor(to_float64(a))), (A,), None),
    "round": (_round, (A, N), "f"),
    "join": (_join, (S, A), None), "sortAlpha": (_sort_alpha, (A,), None),
    # defaults
    "default": (_default, (A,), A), "empty": (empty, (A,), None), "coalesce": (_coalesce, (), A),
    "all": (lambda *v: all(not empty(x) for x in v), (), A),
    "any": (lambda *v: any(not empty(x) for x in v), (), A),
    "compact": (_compact, (A,), None), "mustCompact": (_compact, (A,), None),
    "fromJson": (lambda v: _from_json(v, False), (S,), None),
    "mustFromJson": (lambda v: _from_json(v, True), (S,), None),
    "toJson": (lambda v: _to_json(v, False), (A,), None), "mustToJson": (lambda v: _to_json(v, True), (A,), None),
    "toPrettyJson": (lambda v: _to_json(v, False, indent="  "), (A,), None),
    "mustToPrettyJson": (lambda v: _to_json(v, True, indent="  "), (A,), None),
    "toRawJson": (lambda v: _to_json(v, False, escape_html=False), (A,), None),
    "mustToRawJson": (lambda v: _to_json(v, True, escape_html=False), (A,), None),
    "ternary": (_ternary, (A, A, B), None),
    "deepCopy": (_deep_copy, (A,), None), "mustDeepCopy": (_deep_copy, (A,), None),
    # reflection
    "typeOf": (type_name, (A,), None), "typeIs": (_type_is, (S, A), None),
    "typeIsLike": (lambda t, s: t in (type_name(s), "*" + type_name(s)), (S, A), None),
    "kindOf": (kind_name, (A,), None), "kindIs": (_kind_is, (S, A), None),
    "deepEqual": (lambda a, b: a == b and type_name(a) == type_name(b), (A, A), None),
    # paths
    "base": (go_base, (S,), None), "dir": (go_dir, (S,), None), "clean": (go_clean, (S,), None),
    "ext": (go_ext, (S,), None), "isAbs": (lambda p: p.startswith("/"), (S,), None),
    "osBase": (go_base, (S,), None), "osClean": (go_clean, (S,), None), "osDir": (go_dir, (S,), None),
    "osExt": (go_ext, (S,), None), "osIsAbs": (lambda p: p.startswith("/"), (S,), None),
    # encoding
    "b64enc": (lambda s: base64.b64encode(s.encode()).decode(), (S,), None), "b64dec": (_b64dec, (S,), None),
    "b32enc": (lambda s: base64.b32encode(s.encode()).decode(), (S,), None), "b32dec": (_b32dec, (S,), None),
    # data structures
    "tuple": (lambda *v: list(v), (), A), "list": (lambda *v: list(v), (), A), "dict": (_dict, (), A),
    "get": (_get, (A, S), None), "set": (_set, (A, S, A), None), "unset": (_unset, (A, S), None),
    "hasKey": (_has_key, (A, S), None), "pluck": (_pluck, (S,), A), "keys": (_keys, (), A),
    "pick": (_pick, (A,), S), "omit": (_omit, (A,), S), "merge": (_merge, (A,), A),
    "mergeOverwrite": (_merge_overwrite, (A,), A), "mustMerge": (_merge, (A,), A),
    "mustMergeOverwrite": (_merge_overwrite, (A,), A), "values": (_values, (A,), None),
    "append": (_push, (A, A), None), "push": (_push, (A, A), None),
    "mustAppend": (_push, (A, A), None), "mustPush": (_push, (A, A), None),
    "prepend": (_prepend, (A, A), None), "mustPrepend": (_prepend, (A, A), None),
    "first": (_first, (A,), None), "mustFirst": (_first, (A,), None),
    "rest": (_rest, (A,), None), "mustRest": (_rest, (A,), None),
    "last": (_last, (A,), None), "mustLast": (_last, (A,), None),
    "initial": (_initial, (A,), None), "mustInitial": (_initial, (A,), None),
    "reverse": (_reverse, (A,), None), "mustReverse": (_reverse, (A,), None),
    "uniq": (_uniq, (A,), None), "mustUniq": (_uniq, (A,), None),
    "without": (_without, (A,), A), "mustWithout": (_without, (A,), A),
    "has": (_has, (A, A), None), "mustHas": (_has, (A, A), None),
    "mustSlice": (_sprig_slice, (A,), A), "concat": (_concat, (), A),
    "dig": (_dig, (), A), "chunk": (_chunk, (N, A), None), "mustChunk": (_chunk, (N, A), None),
    # flow control
    "fail": (_fail, (S,), None),
    # regular expressions (Go's RE2 syntax, through RE2 itself)
    "regexMatch": (_safe(lambda r, s: _regex(r).search(s) is not None, False), (S, S), None),
    "mustRegexMatch": (lambda r, s: _regex(r).search(s) is not None, (S, S), None),
    "regexFindAll": (_safe(lambda r, s, n: _regex_find_all(r, s, n, False), []), (S, S, N), None),
    "mustRegexFindAll": (lambda r, s, n: _regex_find_all(r, s, n, True), (S, S, N), None),
    "regexFind": (_safe(lambda r, s: (m.group(0) if (m := _regex(r).search(s)) else ""), ""), (S, S), None),
    "mustRegexFind": (lambda r, s: (m.group(0) if (m := _regex(r).search(s)) else ""), (S, S), None),
    "regexReplaceAll": (_safe(_regex_replace_all, ""), (S, S, S), None),
    "mustRegexReplaceAll": (_regex_replace_all, (S, S, S), None),
    "regexReplaceAllLiteral": (_safe(lambda r, s, repl: _regex(r).sub(lambda _m: repl, s), ""), (S, S, S), None),
    "mustRegexReplaceAllLiteral": (lambda r, s, repl: _regex(r).sub(lambda _m: repl, s), (S, S, S), None),
    "regexSplit": (_safe(_regex_split, []), (S, S, N), None),
    "mustRegexSplit": (_regex_split, (S, S, N), None),
    "regexQuoteMeta": (lambda s: re2.escape(s), (S,), None),
    # ArgoCD's own
    "normalize": (sanitize_name, (S,), None), "slugify": (slugify, (), A),
    "toYaml": (to_yaml, (A,), None), "fromYaml": (from_yaml, (S,), None),
    "fromYamlArray": (from_yaml_array, (S,), None),
}

# Present in ArgoCD, not emulated: the clock, randomness, keys and certificates, semver, URLs.
for _name, _arity in {
    "ago": (A,), "date": (S, A), "date_in_zone": (S, A, S), "date_modify": (S, A), "dateInZone": (S, A, S),
    "dateModify": (S, A), "duration": (A,), "durationRound": (A,), "htmlDate": (A,),
    "htmlDateInZone": (A, S), "must_date_modify": (S, A), "mustDateModify": (S, A), "mustToDate": (S, S),
    "now": (), "toDate": (S, S), "unixEpoch": (A,), "randAlphaNum": (N,), "randAlpha": (N,),
    "randAscii": (N,), "randNumeric": (N,), "randSeededNumeric": (N,), "randBytes": (N,), "uuidv4": (),
    "bcrypt": (S,), "htpasswd": (S, S), "genPrivateKey": (S,), "derivePassword": (A, S, S, S, S),
    "buildCustomCert": (S, S), "genCA": (S, N), "genCAWithKey": (S, N, S), "genSelfSignedCert": (S, A, A, N),
    "genSelfSignedCertWithKey": (S, A, A, N, S), "genSignedCert": (S, A, A, N, A),
    "genSignedCertWithKey": (S, A, A, N, A, S), "encryptAES": (S, S), "decryptAES": (S, S),
    "semver": (S,), "semverCompare": (S, S), "urlParse": (S,), "urlJoin": (A,),
}.items():
    FUNCTIONS[_name] = (_not_emulated(_name), _arity, None)
