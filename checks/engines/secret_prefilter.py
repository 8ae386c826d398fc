"""A quick test that says, for most strings, that no detect-secrets plugin can fire on them.

detect-secrets hands every line to every plugin (27 of them, each with its own regular
expressions): on 1,000 customers that was a million `analyze_line` calls. Here a line
reaches the plugins only when one of these finds something in it:

- for each expression of each regex-based plugin (such a plugin reports only what one of its
  denylist expressions finds; JwtTokenDetector further filters those finds): a literal
  string every match of that expression contains, read from its parsed form (`ghp_`,
  `BEGIN`, `eyJ`, `xox`...), all of them in one alternation; an expression without a
  literal of three characters or more is searched as it is;
- the keywords of KeywordDetector (each of its expressions contains one);
- for each high-entropy plugin, a run of its characters long enough to pass its entropy
  limit: a string of n characters has at most log2(n) bits per character, so one of fewer
  than 2**limit characters never passes.

Built from the plugin objects themselves, so it follows their settings. A plugin of any
other kind -- a custom one, or one that scans differently from its base class -- turns the
prefilter off (`build` returns None): every line then goes to every plugin, as before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]  # the parsed form of an expression (stable within 3.11-3.13)
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# Regex-based plugins whose analyze_string narrows (never widens) what the denylist finds.
_NARROWING = frozenset({"JwtTokenDetector"})
_STRONG = 2  # a literal this long is rare enough to search for instead of the expression
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)

_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_SCOPED_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.UNICODE
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")

# (literal, case-insensitive): every match contains one of a set of these
Needle = tuple[str, bool]


class Prefilter:
    """For an ASCII line: one search for the literals (most lines contain none); then, only for
    the expressions all of whose required literals are there, the expression itself; and one
    search for the expressions that have no literal. Any other line goes to the plugins."""

    def __init__(self, gated: list[tuple[list[set[Needle]], re.Pattern[str]]],
                 ungated: list[re.Pattern[str]]) -> None:
        first = {needle for sets, _ in gated for needle in _best(sets) or ()}
        # An ASCII line holds a case-insensitive ASCII literal exactly when its lowercase holds
        # the literal's lowercase: plain searches, three times faster than (?i) groups.
        self._exact = _any_of({s for s, folded in first if not folded})
        self._lowered = _any_of({s.lower() for s, folded in first if folded})
        self._expressions = [expression for _, expression in gated]
        self._needs = [len(sets) for sets, _ in gated]
        opens: dict[Needle, list[tuple[int, int]]] = {}
        for gate, (sets, _) in enumerate(gated):
            for k, needles in enumerate(sets):
                for needle in needles:
                    opens.setdefault(needle, []).append((gate, k))
        self._opens = [(s.lower() if folded else s, folded, tuple(refs)) for (s, folded), refs in opens.items()]
        # an expression without literal strings may still need one character several times
        # (an IPv4 address three dots): counting it is cheaper than searching for the expression
        counted = [(expression, _most_repeated(expression)) for expression in ungated]
        self._counted = [(char, times, expression) for expression, (char, times) in counted if times >= 2]
        self._ungated = _alternation([expression for expression, (_, times) in counted if times < 2])

    def may_fire(self, line: str) -> bool:
        if not line.isascii():
            return True  # Unicode case folding has its own rules ('ſ' is 's'): the plugins decide
        lowered = line.lower()
        if (self._exact is not None and self._exact.search(line)) or (
                self._lowered is not None and self._lowered.search(lowered)):
            found: dict[int, set[int]] = {}
            for literal, folded, refs in self._opens:
                if literal in (lowered if folded else line):
                    for gate, k in refs:
                        found.setdefault(gate, set()).add(k)
            if any(len(ks) == self._needs[gate] and self._expressions[gate].search(line)
                   for gate, ks in found.items()):
                return True
        if any(line.count(char) >= times and expression.search(line) for char, times, expression in self._counted):
            return True
        return any(expression.search(line) for expression in self._ungated)


def _any_of(strings: set[str]) -> re.Pattern[str] | None:
    """One alternation of literal strings; one that contains another is left out (the shorter
    one finds it too)."""
    kept = sorted(s for s in strings if not any(other != s and other in s for other in strings))
    return re.compile("|".join(map(re.escape, kept))) if kept else None


def _alternation(expressions: list[re.Pattern[str]]) -> list[re.Pattern[str]]:
    """The expressions as one alternation, each in a group carrying its own flags; one with a
    backreference (its group number would change) stays on its own."""
    alone = [e for e in expressions if _BACKREFERENCE.search(e.pattern) or e.flags & ~_SCOPED_FLAGS]
    pieces = []
    for e in expressions:
        if e in alone:
            continue
        letters = "".join(letter for flag, letter in _FLAG_LETTERS if e.flags & flag)
        # a newline before the closing parenthesis: in verbose mode a comment would swallow it
        body = e.pattern + ("\n" if e.flags & re.VERBOSE else "")
        pieces.append(f"(?{letters}:{body})" if letters else f"(?:{body})")
    return ([re.compile("|".join(pieces))] if pieces else []) + alone


def build(plugins: Iterable[Any]) -> Prefilter | None:
    """The prefilter for these plugin instances, or None when one of them cannot be covered."""
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import (
        Base64HighEntropyString,
        HexHighEntropyString,
        HighEntropyStringsPlugin,
    )
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    gated: list[tuple[list[set[Needle]], re.Pattern[str]]] = []
    ungated: list[re.Pattern[str]] = []

    def cover(expression: re.Pattern[str]) -> None:
        sets = required(expression)
        best = _best(sets)
        if best and min(len(s) for s, _ in best) >= _STRONG:
            gated.append((sets, expression))
        else:
            ungated.append(expression)

    for plugin in plugins:
        kind = type(plugin)
        if isinstance(plugin, RegexBasedDetector) and kind.analyze_line is BasePlugin.analyze_line and (
                kind.analyze_string is RegexBasedDetector.analyze_string or kind.__name__ in _NARROWING):
            for expression in plugin.denylist:
                if not isinstance(expression, re.Pattern) or not isinstance(expression.pattern, str):
                    return None
                cover(expression)
        elif kind is KeywordDetector:
            cover(re.compile("|".join(DENYLIST), re.IGNORECASE))
        elif kind in (Base64HighEntropyString, HexHighEntropyString) and \
                kind.analyze_line is HighEntropyStringsPlugin.analyze_line and \
                kind.analyze_string is HighEntropyStringsPlugin.analyze_string:
            # The plugin looks at quoted strings of its characters only (never eagerly, as called
            # here), and entropy <= log2(n); the equal case is let through, against rounding.
            shortest = max(1, math.floor(2 ** plugin.entropy_limit))
            ungated.append(re.compile(f"[\"'][{re.escape(plugin.charset)}]{{{shortest},}}[\"']"))
        else:
            return None
    return Prefilter(gated, ungated)


def required(expression: re.Pattern[str]) -> list[set[Needle]]:
    """Sets of literal strings such that every match of `expression` contains one string of
    each set; no sets when it has no such literal (or uses what this reading does not follow)."""
    try:
        parsed = sre_parse.parse(expression.pattern, expression.flags)
    except (re.error, TypeError, ValueError):
        return []
    return _sequence(list(parsed), bool(expression.flags & re.IGNORECASE))


def _best(sets: list[set[Needle]]) -> set[Needle] | None:
    """The set whose shortest literal is longest: the rarest to find by chance."""
    return max(sets, key=lambda needles: (min(len(s) for s, _ in needles), -len(needles))) if sets else None


def _sequence(items: list[tuple[Any, Any]], folded: bool) -> list[set[Needle]]:
    """Every part of a sequence is in every match: all the sets its parts require (runs of
    literals joined)."""
    sets: list[set[Needle]] = []
    run = ""
    for op, av in items:
        if op is sre.LITERAL:
            run += chr(av)
            continue
        if run and op is sre.BRANCH:
            # the parser moves a prefix shared by all alternatives in front of the branch
            # (`AKIA|ASIA` -> `A(?:KIA|SIA)`): put it back, for longer literals
            prefix = [(sre.LITERAL, ord(c)) for c in run]
            run = ""
            op, av = sre.BRANCH, (av[0], [prefix + list(alternative) for alternative in av[1]])
        if run:
            sets.append({(run, folded)})
            run = ""
        sets.extend(_node(op, av, folded))
    if run:
        sets.append({(run, folded)})
    return sets


def _node(op: Any, av: Any, folded: bool) -> list[set[Needle]]:
    if op is sre.SUBPATTERN:
        _, add_flags, del_flags, body = av
        inner = (folded or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence(list(body), inner)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av), folded)
    if op is sre.BRANCH:
        union: set[Needle] = set()
        for alternative in av[1]:
            best = _best(_sequence(list(alternative), folded))
            if best is None:
                return []  # an alternative that needs no literal: the branch needs none
            union |= best
        return [union]
    if op in _REPEATS:
        low, _, body = av
        return _sequence(list(body), folded) if low >= 1 else []
    # character classes, anchors, lookarounds, backreferences: they add no literal of their own
    return []


def _most_repeated(expression: re.Pattern[str]) -> tuple[str, int]:
    """The character every match contains most often, exactly as written, and how often;
    ("", 0) when there is none. Letters are left out: under IGNORECASE they match other
    characters too (punctuation and digits have no case)."""
    try:
        counts = _counts(list(sre_parse.parse(expression.pattern, expression.flags)))
    except (re.error, TypeError, ValueError):
        counts = {}
    uncased = {char: n for char, n in counts.items() if char.isascii() and not char.isalpha()}
    return max(uncased.items(), key=lambda item: item[1], default=("", 0))


def _counts(items: list[tuple[Any, Any]]) -> dict[str, int]:
    """How often each literal character occurs at least, in every match of a sequence."""
    total: dict[str, int] = {}

    def add(counts: dict[str, int], times: int = 1) -> None:
        for char, n in counts.items():
            total[char] = total.get(char, 0) + n * times

    for op, av in items:
        if op is sre.LITERAL:
            add({chr(av): 1})
        elif op is sre.SUBPATTERN:
            add(_counts(list(av[3])))
        elif op is sre.ATOMIC_GROUP:
            add(_counts(list(av)))
        elif op in _REPEATS and av[0] >= 1:
            add(_counts(list(av[2])), av[0])
        elif op is sre.BRANCH:
            branches = [_counts(list(alternative)) for alternative in av[1]]
            add({char: min(b.get(char, 0) for b in branches) for char in branches[0]} if branches else {})
    return {char: n for char, n in total.items() if n > 0}
