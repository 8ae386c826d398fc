"""Regular expressions from the repositories, compiled by RE2: matching time is linear in the
input whatever the pattern, so `^(a+)+$` against a long value costs microseconds, not hours.

Why RE2 (google-re2) rather than a backtracking engine with a timeout: SOPS and Helm are Go
programs, and Go's `regexp` *is* RE2 -- `.sops.yaml`'s `path_regex` and a sops block's
`encrypted_regex` mean exactly what SOPS makes of them, with no time budget to tune and no
partial answers. JSON Schema patterns are ECMA-262; RE2 covers them except lookaround and
backreferences, which are reported (the keyword is then not evaluated, and the finding says so).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

MAX_PATTERN = 10_000  # characters; RE2 bounds memory too (max_mem), this bounds the program size

# Characters that stand for themselves in RE2 (Go) syntax and in a Python `in` alike: ASCII, no metacharacter.
_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-:@%=,;'\"~!#&<> ")
_ESCAPED_LITERAL = frozenset(".+*?()|[]{}^$\\/-_:@%=,;'\"~!#&<> ")  # `\.` is a dot, `\/` a slash...
_CLASS_ESCAPES = frozenset("dDsSwWbBAz")  # one atom or an assertion, never a literal
_QUANTIFIERS = frozenset("*+?")


def required_literal(pattern: str) -> str | None:
    """A text every match of `pattern` contains, or None when that cannot be read off the pattern simply.

    Only a pattern whose top level is a plain sequence is read: literal characters, `\\` before
    punctuation, `.`, `^`, `$`, one-character class escapes (`\\d`), `[...]` classes, groups, each
    perhaps followed by `*`, `+` or `?`. Each run of literal characters that no quantifier follows
    must then appear in every match, whatever engine runs it; the longest one is returned. Anything
    else at the top level (alternation, `{n,m}`, flags, `\\Q`, `\\x41`, `\\pL`, a class holding
    `[` or `\\`) gives None: the pattern is then always asked in full. Used to say "no match" without
    asking RE2 at all, as a `.sops.yaml` path rule (`customers/[^/]+/[^/]+/secrets\\.yaml$`) is asked
    about every file of the repository and matches few."""
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        literal: str | None = None
        if c in _LITERAL:
            literal, i = c, i + 1
        elif c == "\\":
            if i + 1 >= n:
                return None
            nxt = pattern[i + 1]
            if nxt in _ESCAPED_LITERAL:
                literal = nxt
            elif nxt not in _CLASS_ESCAPES:
                return None  # \Q...\E, \x41, \pL, \123, \n...: read no further
            i += 2
        elif c in ".^$":
            i += 1
        elif c == "[":
            end = _class_end(pattern, i)
            if end is None:
                return None
            i = end + 1
        elif c == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                return None  # flags for the rest of the pattern, or a named group: not read
            end = _group_end(pattern, i)
            if end is None:
                return None
            i = end + 1
        else:
            return None  # `|`, `{`, `)` or anything not listed
        if i < n and pattern[i] in _QUANTIFIERS:
            literal = None  # the atom may be absent (or repeated): the run ends before it
            while i < n and pattern[i] in _QUANTIFIERS:  # `+?`, `*?`: lazy, the same atoms
                i += 1
        elif i < n and pattern[i] == "{":
            return None
        if literal is None:
            if run:
                runs.append("".join(run))
                run = []
        else:
            run.append(literal)
    if run:
        runs.append("".join(run))
    return max(runs, key=len) if runs else None


def _class_end(pattern: str, start: int) -> int | None:
    """Index of the `]` closing the class opening at `start` (`[]a]`, `[^]a]`: a `]` first is a
    member); None for a class holding `[` (`[[:alpha:]]`) or `\\`, or none closing."""
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    end = pattern.find("]", i)
    if end < 0 or "[" in pattern[start + 1:end] or "\\" in pattern[start + 1:end]:
        return None
    return end


def _group_end(pattern: str, start: int) -> int | None:
    """Index of the `)` closing the group opening at `start`; None when unbalanced or unclear."""
    depth, i, n = 0, start, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if pattern.startswith("Q", i + 1):
                return None  # \Q...\E quotes parentheses too: not read
            i += 2
            continue
        if c == "[":  # a class may hold parentheses
            end = _class_end(pattern, i)
            if end is None:
                return None
            i = end + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


class UnsafePattern(Exception):
    """A pattern RE2 cannot run (syntax it lacks, or too large); the message says which."""


class SafePattern:
    """A compiled RE2 pattern whose `search(text)` says whether it matches anywhere in `text`.

    Asked through google-re2's compiled program directly (`_regexp.Match`, one call into C++)
    rather than its Python `search`, which builds a match object in Python: 0.6 us a call
    instead of 4.5 (Python's `re`: 0.2). Answers are remembered per text, as the same keys and
    paths are asked again and again (every values file has `image`; every check asks a file's
    path): the checks that match SOPS rules and schema patterns stay as fast as with `re`."""

    __slots__ = ("_anchor", "_answers", "_match", "_needle", "_regexp", "pattern")
    MEMO = 1 << 16  # answers kept per pattern; then forgotten and kept again

    def __init__(self, regexp: Any) -> None:
        self._regexp = regexp
        self.pattern: str = regexp.pattern
        self._answers: dict[str, bool] = {}
        # a text without it cannot match: answered without RE2 or the memo (most paths, for a path rule)
        self._needle = required_literal(self.pattern) if isinstance(self.pattern, str) else None
        inner: Any = getattr(regexp, "_regexp", None)
        anchor = getattr(getattr(inner, "Anchor", None), "UNANCHORED", None)
        # google-re2's internals: where a version lacks them, its public search (same answers)
        self._match = inner.Match if anchor is not None and hasattr(inner, "Match") else None
        self._anchor = anchor

    def search(self, text: str) -> bool:
        needle = self._needle
        if needle is not None and needle not in text:
            return False
        answer = self._answers.get(text)
        if answer is None:
            answer = self._search(text)
            if len(self._answers) >= self.MEMO:
                self._answers.clear()
            self._answers[text] = answer
        return answer

    def _search(self, text: str) -> bool:
        if self._match is None:
            return self._regexp.search(text) is not None
        encoded = text.encode("utf-8", "surrogatepass")  # a lone surrogate (a YAML escape) matches nothing
        return bool(self._match(self._anchor, encoded, 0, len(encoded))[0] != (-1, -1))


@lru_cache(maxsize=4096)
def compile_untrusted(pattern: str) -> SafePattern:
    """The compiled pattern (with `.search(text) -> bool`), or UnsafePattern."""
    import re2

    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"pattern longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.log_errors = False  # RE2 would print the pattern on stderr
    options.max_mem = 8 << 20
    try:
        return SafePattern(re2.compile(pattern, options))
    except re2.error as exc:
        reason = str(exc.args[0] if exc.args else exc)
        if isinstance(exc.args[0] if exc.args else None, bytes):
            reason = exc.args[0].decode("utf-8", "replace")
        raise UnsafePattern(reason) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`; UnsafePattern when it cannot be run."""
    return compile_untrusted(pattern).search(text)
