"""Go's text/template as ArgoCD's ApplicationSet controller runs it (ArgoCD v3.5,
`applicationset/utils/utils.go` `Render.Replace`), and fasttemplate for `goTemplate: false`.

`render()` parses a template the way Go's `text/template/parse` does (actions, trim
markers, comments, pipelines, variables, `if`/`else if`/`range`/`with`/`break`/`continue`)
and executes it with Go's rules: truthiness, `missingkey` (default, zero, error), the
builtins (`and`, `or`, `not`, `len`, `index`, `slice`, `eq`... `printf`) and the sprig
functions ArgoCD enables (`checks/engines/sprig.py`). Outcomes:

- `TemplateError`: Go would fail to parse or execute it; ArgoCD then fails the whole
  ApplicationSet's generation. `MissingKey` is the `missingkey=error` case.
- `NotEvaluated`: a construct this emulation does not evaluate (`define`/`template`,
  functions that read the clock or randomness); the caller reports it and never guesses.

`render_legacy()` is fasttemplate's `{{key}}` replacement: a key with no string
parameter is left verbatim, exactly as ArgoCD leaves it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from checks.engines.goerrors import GoError, MissingKey, NotEvaluated, TemplateError, as_data, truth
from checks.engines.gofmt import MISSING, format_value, kind_name, type_name
from checks.engines.sprig import FUNCTIONS

MISSING_DEFAULT, MISSING_ZERO, MISSING_ERROR = 0, 1, 2

# -- lexing ------------------------------------------------------------------------
_SPACE = " \t\r\n"
_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
                     r"|0[bB][01_]+|0[oO][0-7_]+"
                     r"|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
            "'": "'", '"': '"'}


def _unquote(body: str, quote: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise TemplateError("unterminated escape in quoted string")
        e = body[i + 1]
        if e in _ESCAPES and (e != "'" or quote == "'") and (e != '"' or quote == '"'):
            out.append(_ESCAPES[e])
            i += 2
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2:i + 2 + n]
            if len(digits) != n or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise TemplateError(f"invalid syntax in quoted string {body!r}")
            code = int(digits, 16)
            if e == "x":
                out.append(bytes([code]).decode("latin-1"))
            else:
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise TemplateError(f"invalid syntax in quoted string {body!r}")
                out.append(chr(code))
            i += 2 + n
        elif e in "01234567":
            digits = body[i + 1:i + 4]
            if len(digits) != 3 or not all(d in "01234567" for d in digits) or int(digits, 8) > 255:
                raise TemplateError(f"invalid syntax in quoted string {body!r}")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise TemplateError(f"invalid syntax in quoted string {body!r}")
    return "".join(out)


def _parse_number(text: str) -> Any:
    if text.endswith("i"):
        raise NotEvaluated(f"complex number {text}")
    clean = text.replace("_", "")
    try:
        low = clean.lower().lstrip("+-")
        if low.startswith(("0x", "0b", "0o")) and "." not in low and "p" not in low:
            return int(clean, 0)
        if re.fullmatch(r"[+-]?[0-9]+", clean):
            # Go reads a leading 0 as octal
            digits = clean.lstrip("+-")
            sign = -1 if clean.startswith("-") else 1
            if len(digits) > 1 and digits.startswith("0"):
                return sign * int(digits, 8)
            return int(clean)
        if low.startswith("0x"):
            return float.fromhex(clean)
        return float(clean)
    except ValueError:
        raise TemplateError(f"bad number syntax: {text!r}") from None


def _lex_action(src: str, pos: int, end_trim: list[bool]) -> tuple[list[tuple[str, Any]], int]:
    """Tokens of one action from `pos` up to its closing `}}` (returned: position after it)."""
    tokens: list[tuple[str, Any]] = []
    n = len(src)
    depth = 0
    while True:
        if pos >= n:
            raise TemplateError("unclosed action")
        c = src[pos]
        if c in _SPACE:
            start = pos
            while pos < n and src[pos] in _SPACE:
                pos += 1
            # " -}}": trim marker
            if src.startswith("-}}", pos) and depth == 0:
                end_trim.append(True)
                return tokens, pos + 3
            if tokens and tokens[-1][0] != "space":
                tokens.append(("space", src[start:pos]))
            continue
        if src.startswith("}}", pos):
            if depth:
                raise TemplateError("unclosed left paren")
            end_trim.append(False)
            return tokens, pos + 2
        if c == "|":
            tokens.append(("pipe", c))
            pos += 1
        elif c == "(":
            depth += 1
            tokens.append(("lparen", c))
            pos += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise TemplateError("unexpected right paren")
            tokens.append(("rparen", c))
            pos += 1
        elif c == ",":
            tokens.append(("comma", c))
            pos += 1
        elif c == ":":
            if not src.startswith(":=", pos):
                raise TemplateError("expected :=")
            tokens.append(("declare", ":="))
            pos += 2
        elif c == "=":
            tokens.append(("assign", "="))
            pos += 1
        elif c == '"':
            j = pos + 1
            while j < n and src[j] != '"':
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    raise TemplateError("unterminated quoted string")
                j += 1
            if j >= n:
                raise TemplateError("unterminated quoted string")
            tokens.append(("string", _unquote(src[pos + 1:j], '"')))
            pos = j + 1
        elif c == "`":
            j = src.find("`", pos + 1)
            if j < 0:
                raise TemplateError("unterminated raw quoted string")
            tokens.append(("string", src[pos + 1:j]))
            pos = j + 1
        elif c == "'":
            j = pos + 1
            while j < n and src[j] != "'":
                if src[j] == "\\":
                    j += 1
                elif src[j] == "\n":
                    raise TemplateError("unterminated character constant")
                j += 1
            if j >= n:
                raise TemplateError("unterminated character constant")
            text = _unquote(src[pos + 1:j], "'")
            if len(text) != 1:
                raise TemplateError(f"malformed character constant: {src[pos:j + 1]}")
            tokens.append(("number", ord(text)))
            pos = j + 1
        elif c == "$":
            m = _IDENT.match(src, pos + 1)
            name = "$" + (m.group(0) if m else "")
            tokens.append(("var", name))
            pos += len(name)
        elif c == "." and not (pos + 1 < n and src[pos + 1].isdigit()):
            m = _IDENT.match(src, pos + 1)
            if m:
                tokens.append(("field", m.group(0)))
                pos = m.end()
            else:
                tokens.append(("dot", "."))
                pos += 1
        elif c in "+-." or c.isdigit():
            m = _NUMBER.match(src, pos)
            if not m or m.end() == pos or (m.end() < n and (src[m.end()].isalnum() or src[m.end()] == "_")):
                raise TemplateError(f"bad number syntax near {src[pos:pos + 10]!r}")
            tokens.append(("number", _parse_number(m.group(0))))
            pos = m.end()
        elif c.isalpha() or c == "_":
            m = _IDENT.match(src, pos)
            word = m.group(0) if m else c
            pos += len(word)
            if pos < n and not (src[pos] in _SPACE or src[pos] in ".,|:)(" or src.startswith("}}", pos)):
                raise TemplateError(f"bad character {src[pos]!r}")
            if word in _KEYWORDS:
                tokens.append(("keyword", word))
            elif word in ("true", "false"):
                tokens.append(("bool", word == "true"))
            elif word == "nil":
                tokens.append(("nil", None))
            else:
                tokens.append(("ident", word))
        else:
            raise TemplateError(f"unrecognized character in action: {c!r}")


def _lex(src: str) -> list[tuple[str, Any]]:
    """[("text", s) | ("action", tokens)], trim markers applied to the text around them."""
    items: list[tuple[str, Any]] = []
    pos = 0
    n = len(src)
    trim_next = False
    while True:
        start = src.find("{{", pos)
        text = src[pos:] if start < 0 else src[pos:start]
        if trim_next:
            text = text.lstrip(_SPACE)
        if start < 0:
            if text:
                items.append(("text", text))
            return items
        inner = start + 2
        trim_left = src.startswith("- ", inner) or (src.startswith("-", inner) and inner + 1 < n
                                                     and src[inner + 1] in _SPACE)
        if trim_left:
            text = text.rstrip(_SPACE)
            inner += 2
        if text:
            items.append(("text", text))
        # comments: {{/* ... */}} (with optional trim markers)
        probe = inner
        while probe < n and src[probe] in _SPACE and trim_left:
            probe += 1
        if src.startswith("/*", probe):
            close = src.find("*/", probe + 2)
            if close < 0:
                raise TemplateError("unclosed comment")
            after = close + 2
            if src.startswith("}}", after):
                pos, trim_next = after + 2, False
            elif src.startswith(" -}}", after) or (after < n and src[after] in _SPACE
                                                  and src.startswith("-}}", after + 1)):
                pos, trim_next = after + 4, True
            else:
                raise TemplateError("comment ends before closing delimiter")
            continue
        end_trim: list[bool] = []
        tokens, pos = _lex_action(src, inner, end_trim)
        trim_next = end_trim[0]
        items.append(("action", tokens))


# -- parsing -----------------------------------------------------------------------
# Nodes are tuples:
#   ("text", s) ("action", pipe) ("if"|"with"|"range", pipe, body, else_body) ("break",) ("continue",)
#   pipe = (decl: tuple[str, ...], assign: bool, commands: tuple[command, ...], source: str)
#   command = tuple[operand, ...]
#   operand = ("field", names) | ("var", name, names) | ("dot",) | ("ident", name) | ("const", value)
#           | ("nil",) | ("pipe", pipe, names)

class _Parser:
    def __init__(self, src: str, functions: dict) -> None:
        self.items = _lex(src)
        self.i = 0
        self.functions = functions
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    def parse(self) -> tuple:
        body, end = self._list()
        if end is not None:
            raise TemplateError(f"unexpected {{{{{end[0]}}}}}")
        return body

    def _list(self) -> tuple[tuple, Any]:
        """Nodes up to {{end}} / {{else ...}} (returned as the second item) or the end of input."""
        nodes: list[tuple] = []
        while self.i < len(self.items):
            kind, value = self.items[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(("text", value))
                continue
            tokens = [t for t in value]
            while tokens and tokens[-1][0] == "space":
                tokens.pop()
            if not tokens:
                raise TemplateError("missing value for command")
            first = tokens[0]
            if first[0] == "keyword":
                word = first[1]
                rest = tokens[1:]
                if rest and rest[0][0] == "space":
                    rest = rest[1:]
                if word in ("end", "else"):
                    return tuple(nodes), (word, rest)
                if word in ("if", "with", "range"):
                    nodes.append(self._control(word, rest))
                elif word in ("break", "continue"):
                    if not self.range_depth:
                        raise TemplateError(f"{{{{{word}}}}} outside {{{{range}}}}")
                    if rest:
                        raise TemplateError(f"unexpected {rest[0][1]!r} in {word}")
                    nodes.append((word,))
                else:
                    raise NotEvaluated(f"{{{{{word}}}}} (named templates) is not evaluated")
                continue
            nodes.append(("action", self._pipeline(tokens, allow_decl=True)))
        return tuple(nodes), None

    def _control(self, word: str, tokens: list) -> tuple:
        depth = len(self.vars)
        pipe = self._pipeline(tokens, allow_decl=True, range_decl=word == "range")
        if word == "range":
            self.range_depth += 1
        body, end = self._list()
        if word == "range":
            self.range_depth -= 1
        else_body: tuple = ()
        if end is None:
            raise TemplateError(f"unexpected EOF in {word}")
        if end[0] == "else":
            rest = end[1]
            del self.vars[depth:]
            if (rest and rest[0] == ("keyword", "if")) or (rest and rest[0] == ("keyword", "with")):
                # {{else if ...}} / {{else with ...}}: a nested control ending at the same {{end}}
                sub = rest[0][1]
                sub_tokens = rest[1:]
                if sub_tokens and sub_tokens[0][0] == "space":
                    sub_tokens = sub_tokens[1:]
                else_body = (self._control(sub, sub_tokens),)
                del self.vars[depth:]
                return (word, pipe, body, else_body)
            if rest:
                raise TemplateError(f"unexpected {rest[0][1]!r} in else")
            else_body, end2 = self._list()
            if end2 is None or end2[0] != "end":
                raise TemplateError(f"expected end; found {end2[0] if end2 else 'EOF'}")
            if end2[1]:
                raise TemplateError("unexpected tokens after end")
        elif end[1]:
            raise TemplateError("unexpected tokens after end")
        del self.vars[depth:]
        return (word, pipe, body, else_body)

    def _pipeline(self, tokens: list, allow_decl: bool = False, range_decl: bool = False) -> tuple:
        source = "".join(str(t[1]) if t[0] not in ("string",) else repr(t[1]) for t in tokens)
        decl: list[str] = []
        assign = False
        # $x := / $x = / $k, $v :=
        j = 0
        probe = [t for t in tokens if t[0] != "space"]
        if allow_decl and probe and probe[0][0] == "var":
            if len(probe) > 1 and probe[1][0] in ("declare", "assign"):
                decl, assign = [probe[0][1]], probe[1][0] == "assign"
                j = 2
            elif range_decl and len(probe) > 3 and probe[1][0] == "comma" and probe[2][0] == "var" \
                    and probe[3][0] in ("declare", "assign"):
                decl, assign = [probe[0][1], probe[2][1]], probe[3][0] == "assign"
                j = 4
        if j:
            tokens = probe[j:]
            if not tokens:
                raise TemplateError("missing value for command")
        commands: list[list] = [[]]
        depth = 0
        for tok in tokens:
            if tok[0] == "pipe" and depth == 0:
                commands.append([])
                continue
            depth += tok[0] == "lparen"
            depth -= tok[0] == "rparen"
            commands[-1].append(tok)
        compiled = tuple(self._command(c) for c in commands)
        if assign:
            for name in decl:
                if name not in self.vars:
                    raise TemplateError(f"undefined variable: {name}")
        else:
            self.vars.extend(decl)
        for k, command in enumerate(compiled):
            if k and command[0][0] in ("const", "nil", "dot"):
                raise TemplateError(f"non executable command in pipeline stage {k + 1}")
        return (tuple(decl), assign, compiled, source)

    def _command(self, tokens: list) -> tuple:
        while tokens and tokens[0][0] == "space":
            tokens = tokens[1:]
        while tokens and tokens[-1][0] == "space":
            tokens = tokens[:-1]
        if not tokens:
            raise TemplateError("missing value for command")
        operands: list[tuple] = []
        i = 0
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "space":
                i += 1
                continue
            if kind == "lparen":
                depth, j = 1, i + 1
                while j < len(tokens) and depth:
                    depth += tokens[j][0] == "lparen"
                    depth -= tokens[j][0] == "rparen"
                    j += 1
                if depth:
                    raise TemplateError("unclosed left paren")
                inner = self._pipeline(tokens[i + 1:j - 1])
                names, j = self._fields(tokens, j)
                operands.append(("pipe", inner, names))
                i = j
                continue
            if kind == "field":
                names, j = self._fields(tokens, i)
                operands.append(("field", names))
                i = j
                continue
            if kind == "var":
                if value not in self.vars:
                    raise TemplateError(f"undefined variable: {value}")
                names, j = self._fields(tokens, i + 1)
                operands.append(("var", value, names))
                i = j
                continue
            if kind == "dot":
                operands.append(("dot",))
            elif kind == "ident":
                if value not in self.functions:
                    raise TemplateError(f'function "{value}" not defined')
                names, j = self._fields(tokens, i + 1)
                if names:
                    raise NotEvaluated(f"field access on the result of {value}")
                operands.append(("ident", value))
            elif kind in ("string", "number", "bool"):
                operands.append(("const", value))
            elif kind == "nil":
                operands.append(("nil",))
            elif kind == "keyword":
                raise TemplateError(f"unexpected <{value}> in command")
            else:
                raise TemplateError(f"unexpected {value!r} in operand")
            i += 1
        if operands[0][0] == "nil":
            raise TemplateError("nil is not a command")
        return tuple(operands)

    @staticmethod
    def _fields(tokens: list, i: int) -> tuple[tuple[str, ...], int]:
        names: list[str] = []
        while i < len(tokens) and tokens[i][0] == "field":
            names.append(tokens[i][1])
            i += 1
        return tuple(names), i


# -- execution ---------------------------------------------------------------------
class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    __slots__ = ("missing", "out", "root", "source", "vars")

    def __init__(self, root: Any, missing: int, source: str) -> None:
        self.root = root
        self.vars: list[list] = [["$", root]]
        self.missing = missing
        self.out: list[str] = []
        self.source = source


def _field(value: Any, name: str, st: _State, expr: str) -> Any:
    if value is MISSING:
        if st.missing == MISSING_ERROR:
            raise MissingKey(name, expr)
        return MISSING
    if isinstance(value, dict):
        if name in value:
            return as_data(value[name])
        if st.missing == MISSING_ERROR:
            raise MissingKey(name, expr)
        return None if st.missing == MISSING_ZERO else MISSING
    if value is None:
        raise TemplateError(f"nil pointer evaluating interface {{}}.{name} (in {expr})")
    raise TemplateError(f"can't evaluate field {name} in type {type_name(value)} (in {expr})")


def _fields(value: Any, names: tuple[str, ...], st: _State, expr: str) -> Any:
    for name in names:
        value = _field(value, name, st, expr)
    return value


class _Compiler:
    def __init__(self, functions: dict, source: str) -> None:
        self.functions = functions
        self.source = source

    def block(self, nodes: tuple) -> Any:
        parts = [self.node(n) for n in nodes]
        if len(parts) == 1:
            return parts[0]

        def run(st: _State) -> None:
            for part in parts:
                part(st)
        return run

    def node(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "text":
            text = node[1]
            return lambda st: st.out.append(text)
        if kind == "action":
            pipe = self.pipeline(node[1])
            if node[1][0]:  # a declaration prints nothing
                return lambda st: pipe(st)

            def action(st: _State) -> None:
                value = pipe(st)
                st.out.append(value if type(value) is str else format_value(value))
            return action
        if kind in ("if", "with"):
            return self.conditional(node)
        if kind == "range":
            return self.range(node)
        if kind == "break":
            def brk(st: _State) -> None:
                raise _Break
            return brk

        def cont(st: _State) -> None:
            raise _Continue
        return cont

    def conditional(self, node: tuple) -> Any:
        kind, pipe_node, body_nodes, else_nodes = node
        pipe = self.pipeline(pipe_node)
        body = self.block(body_nodes)
        other = self.block(else_nodes) if else_nodes else None
        with_ = kind == "with"

        def run(st: _State) -> None:
            depth = len(st.vars)
            value = pipe(st)
            try:
                if truth(value):
                    if with_:
                        st.vars.append([".", value])  # dot, found by _dot; "$" stays the root
                    body(st)
                elif other is not None:
                    other(st)
            finally:
                del st.vars[depth:]
        return run

    def range(self, node: tuple) -> Any:
        _, pipe_node, body_nodes, else_nodes = node
        decl = pipe_node[0]
        pipe = self.pipeline(pipe_node, declare=False)  # range declares per item, below
        body = self.block(body_nodes)
        other = self.block(else_nodes) if else_nodes else None

        def run(st: _State) -> None:
            depth = len(st.vars)
            value = pipe(st)
            if value is None or value is MISSING:
                items: list = []
            elif isinstance(value, (list, tuple)):
                items = [(i, as_data(v)) for i, v in enumerate(value)]
            elif isinstance(value, dict):
                items = [(k, as_data(value[k])) for k in sorted(value, key=str)]
            elif isinstance(value, int) and not isinstance(value, bool):
                items = [(i, i) for i in range(value)]
            else:
                raise TemplateError(f"range can't iterate over a value of type {type_name(value)}")
            try:
                if not items:
                    if other is not None:
                        other(st)
                    return
                for key, item in items:
                    del st.vars[depth:]
                    if len(decl) == 1:
                        st.vars.append([decl[0], item])
                    elif len(decl) == 2:
                        st.vars.append([decl[0], key])
                        st.vars.append([decl[1], item])
                    st.vars.append([".", item])
                    try:
                        body(st)
                    except _Continue:
                        continue
                    except _Break:
                        break
            finally:
                del st.vars[depth:]
        return run

    def pipeline(self, pipe_node: tuple, declare: bool = True) -> Any:
        """A closure st -> value that declares or assigns the pipeline's variables."""
        decl, assign, commands, source = pipe_node
        if not declare:
            decl = ()
        compiled = [self.command(c, source) for c in commands]
        if len(compiled) == 1:
            only = compiled[0]

            def single(st: _State) -> Any:
                return only(st, _NO_FINAL)
            run = single
        else:
            def chain(st: _State) -> Any:
                value: Any = _NO_FINAL
                for command in compiled:
                    value = command(st, value)
                return value
            run = chain
        if not decl:
            return run
        name = decl[-1]

        def declaring(st: _State) -> Any:
            value = run(st)
            if assign:
                for entry in reversed(st.vars):
                    if entry[0] == name:
                        entry[1] = value
                        break
            else:
                st.vars.append([name, value])
            return value
        return declaring

    def operand(self, op: tuple, source: str) -> Any:
        kind = op[0]
        if kind == "const":
            value = op[1]
            return lambda st: value
        if kind == "nil":
            return lambda st: None
        if kind == "dot":
            return _dot
        if kind == "field":
            names = op[1]
            if len(names) == 1:
                name = names[0]

                def one(st: _State) -> Any:
                    dot = _dot(st)
                    if type(dot) is dict and name in dot:
                        value = dot[name]
                        return float(value) if type(value) is int else value
                    return _field(dot, name, st, source)
                return one
            return lambda st: _fields(_dot(st), names, st, source)
        if kind == "var":
            var, names = op[1], op[2]

            def variable(st: _State) -> Any:
                for entry in reversed(st.vars):
                    if entry[0] == var:
                        return _fields(entry[1], names, st, source) if names else entry[1]
                raise TemplateError(f"undefined variable: {var}")
            return variable
        if kind == "pipe":
            inner = self.pipeline(op[1])
            names = op[2]
            if not names:
                return inner
            return lambda st: _fields(inner(st), names, st, source)
        if kind == "ident":
            call = self.call(op[1], (), source)
            return lambda st: call(st, _NO_FINAL)
        raise TemplateError(f"unexpected operand {kind}")

    def command(self, operands: tuple, source: str) -> Any:
        first = operands[0]
        if first[0] == "ident":
            return self.call(first[1], operands[1:], source)
        if len(operands) > 1:
            raise TemplateError(f"can't give argument to non-function {source}")
        value = self.operand(first, source)

        def run(st: _State, final: Any) -> Any:
            if final is not _NO_FINAL:
                raise TemplateError(f"can't give argument to non-function {source}")
            return value(st)
        return run

    def call(self, name: str, arg_ops: tuple, source: str) -> Any:
        spec = self.functions[name]
        args = [self.operand(op, source) for op in arg_ops]
        literal = [op[0] == "const" for op in arg_ops]
        fn, params, variadic = spec
        if name in ("and", "or"):
            want_or = name == "or"

            def logic(st: _State, final: Any) -> Any:
                thunks = list(args)
                if final is not _NO_FINAL:
                    thunks.append(lambda _st: final)
                if not thunks:
                    raise TemplateError(f"wrong number of args for {name}: want at least 1 got 0")
                value: Any = None
                for thunk in thunks:
                    value = thunk(st)
                    if truth(value) == want_or:
                        return value
                return value
            return logic

        def invoke(st: _State, final: Any) -> Any:
            values = [a(st) for a in args]
            lits = list(literal)
            if final is not _NO_FINAL:
                values.append(final)
                lits.append(False)
            count = len(values)
            if (variadic is None and count != len(params)) or (variadic is not None and count < len(params)):
                raise TemplateError(f"wrong number of args for {name}: want {len(params)} got {count} ({source})")
            converted = [_convert(v, params[i] if i < len(params) else variadic, lits[i], name)
                         for i, v in enumerate(values)]
            try:
                return fn(*converted)
            except GoError as exc:
                raise TemplateError(f"error calling {name}: {exc} ({source})") from None
            except (ZeroDivisionError, OverflowError, RecursionError) as exc:
                raise TemplateError(f"error calling {name}: runtime error: {type(exc).__name__}") from None
        return invoke


_NO_FINAL = object()


def _dot(st: _State) -> Any:
    for entry in reversed(st.vars):
        if entry[0] == ".":
            return entry[1]
    return st.root


def _convert(value: Any, kind: str, literal: bool, name: str) -> Any:
    """Go's argument check: a typed parameter takes only a value of its type."""
    if kind in ("a", "v"):
        return None if value is MISSING else value
    if value is MISSING or value is None:
        if kind in ("m", "l"):
            return None
        raise TemplateError(f"error calling {name}: invalid value; expected {_GO_TYPES[kind]}")
    if (kind == "s" and isinstance(value, str)) or (kind == "b" and isinstance(value, bool)):
        return value
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "f" and (isinstance(value, float) or (literal and isinstance(value, int)
                                                     and not isinstance(value, bool))):
        return float(value)
    if (kind == "m" and isinstance(value, dict)) or (kind == "l" and isinstance(value, list)):
        return value
    raise TemplateError(f"error calling {name}: wrong type for value; expected {_GO_TYPES[kind]}; "
                        f"got {type_name(value)}")


_GO_TYPES = {"s": "string", "i": "int", "b": "bool", "f": "float64", "m": "map[string]interface {}",
             "l": "[]interface {}"}


@functools.lru_cache(maxsize=8192)
def _compile_cached(template: str) -> tuple[Any, tuple | None]:
    """A compiled template and its plain plan (`_plain_plan`), or the exception its parsing
    raised (re-raised on every use) and None."""
    try:
        tree = _Parser(template, FUNCTIONS).parse()
        return (_Compiler(FUNCTIONS, template).block(tree) if tree else (lambda st: None)), _plain_plan(tree)
    except (TemplateError, NotEvaluated) as exc:
        return exc, None
    except RecursionError:
        return TemplateError("template nested too deeply"), None


def _plain_plan(tree: tuple) -> tuple | None:
    """The template as text and lookups, when it is only that: every action one field chain of
    the root (`.path.path`) or `index` of one with constant indexes (`index .path.segments 1`).
    ApplicationSet templates are nearly all of this kind, and rendered once per Application:
    `_render_plain` does it without the general machinery. None for any other template."""
    plan: list[Any] = []
    for node in tree:
        if node[0] == "text":
            plan.append(node[1])
            continue
        if node[0] != "action":
            return None
        decl, _, commands, _ = node[1]
        if decl or len(commands) != 1:
            return None
        ops = commands[0]
        if len(ops) == 1 and ops[0][0] == "field":
            plan.append((ops[0][1], ()))
        elif len(ops) >= 3 and ops[0] == ("ident", "index") and ops[1][0] == "field" \
                and all(op[0] == "const" and type(op[1]) in (int, str) for op in ops[2:]):
            plan.append((ops[1][1], tuple(op[1] for op in ops[2:])))
        else:
            return None
    return tuple(plan)


def _render_plain(plan: tuple, params: Any) -> str | None:
    """A plain plan rendered when every lookup finds a string where the general machinery would
    find it (a map holding the key, a list long enough); None for anything else (a missing key,
    a number, a nil...), which the general machinery renders, or fails, as Go does."""
    out = []
    for part in plan:
        if type(part) is str:
            out.append(part)
            continue
        value = plain_lookup(params, part)
        if value is None:
            return None
        out.append(value)
    return out[0] if len(out) == 1 else "".join(out)


def plain_lookup(params: Any, lookup: tuple) -> str | None:
    """One lookup of a plain plan, (field chain, constant indexes): the string it finds, else None."""
    value = params
    names, indexes = lookup
    for name in names:
        if type(value) is not dict or name not in value:
            return None
        value = value[name]
    for index in indexes:
        if type(index) is int:
            if type(value) is not list or not 0 <= index < len(value):
                return None
        elif type(value) is not dict or index not in value:
            return None
        value = value[index]
    return value if type(value) is str else None


def plain_plan(template: str) -> tuple | None:
    """The template as text (str) and lookups (a field chain and constant indexes), when it is
    only that; None for any other template, or one that does not parse."""
    return _compile_cached(template)[1]


def check_syntax(template: str) -> None:
    """Raise what parsing the template raises (TemplateError / NotEvaluated)."""
    compiled, _ = _compile_cached(template)
    if isinstance(compiled, Exception):
        raise compiled


def render(template: str, params: Any, strict: bool | int = False) -> str:
    """Execute a Go template over `params`. `strict`: True (or MISSING_ERROR) for
    `missingkey=error`, MISSING_ZERO for `missingkey=zero`, else Go's default."""
    compiled, plan = _compile_cached(template)
    if plan is not None:
        text = _render_plain(plan, params)
        if text is not None:
            return text
    if isinstance(compiled, Exception):
        raise compiled
    mode = MISSING_ERROR if strict is True else (strict if isinstance(strict, int) else MISSING_DEFAULT)
    st = _State(params, mode, template)
    try:
        compiled(st)
    except (_Break, _Continue):  # only reachable through a parser bug; never a crash
        raise TemplateError("break or continue outside range") from None
    except RecursionError:
        raise TemplateError("template evaluation nested too deeply") from None
    out = st.out
    return out[0] if len(out) == 1 else "".join(out)


def missingkey_mode(options: Any) -> int:
    """The `missingkey` mode of an ApplicationSet's goTemplateOptions (the last one wins)."""
    mode = MISSING_DEFAULT
    for option in options if isinstance(options, list) else []:
        text = str(option)
        if text in ("missingkey=error",):
            mode = MISSING_ERROR
        elif text == "missingkey=zero":
            mode = MISSING_ZERO
        elif text in ("missingkey=default", "missingkey=invalid"):
            mode = MISSING_DEFAULT
        else:
            raise TemplateError(f"unrecognized option: {text}")
    return mode


# -- fasttemplate (goTemplate: false) ------------------------------------------------
_TEMPLATED = re.compile(r".*\{\{.*\}\}.*")


def render_legacy(template: str, flat: dict[str, Any]) -> str:
    """fasttemplate with ArgoCD's tag function: `{{ key }}` replaced by the string parameter
    `key`; a tag with no string parameter (or an empty one) is written back verbatim. A string
    with no line holding `{{...}}` is not templated at all; an unclosed tag is an error."""
    if not _TEMPLATED.search(template):
        return template
    out: list[str] = []
    pos = 0
    while True:
        start = template.find("{{", pos)
        if start < 0:
            out.append(template[pos:])
            return "".join(out)
        end = template.find("}}", start + 2)
        if end < 0:
            raise TemplateError(f"invalid template: cannot find end tag '}}}}' in {template!r}")
        out.append(template[pos:start])
        tag = template[start + 2:end]
        key = tag.strip(" \t\n\r\v\f")
        value = flat.get(key) if key else None
        out.append(value if isinstance(value, str) else "{{" + tag + "}}")
        pos = end + 2


def tree_renderer(value: Any) -> Any:
    """A function rendering `value` with a string renderer, or None when nothing in it is templated.

    Built once per template, it visits only the templated strings (map keys too, as ArgoCD
    templates them); untemplated subtrees are shared between the results (read, never changed)."""
    if isinstance(value, str):
        return (lambda fn: fn(value)) if "{{" in value else None
    if isinstance(value, dict):
        parts = [(k, isinstance(k, str) and "{{" in k, tree_renderer(v)) for k, v in value.items()]
        if all(r is None and not tk for _, tk, r in parts):
            return None
        return lambda fn: {(fn(k) if tk else k): (r(fn) if r is not None else value[k]) for k, tk, r in parts}
    if isinstance(value, list):
        items = [tree_renderer(v) for v in value]
        if all(r is None for r in items):
            return None
        return lambda fn: [(r(fn) if r is not None else v) for r, v in zip(items, value, strict=True)]
    return None


__all__ = ["MISSING", "GoError", "MissingKey", "NotEvaluated", "TemplateError", "check_syntax", "format_value",
           "kind_name", "missingkey_mode", "plain_lookup", "plain_plan", "render", "render_legacy", "tree_renderer",
           "truth"]
