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


class UnsafePattern(Exception):
    """A pattern RE2 cannot run (syntax it lacks, or too large); the message says which."""


class SafePattern:
    """A compiled RE2 pattern whose `search(text)` says whether it matches anywhere in `text`.

    Asked through google-re2's compiled program directly (`_regexp.Match`, one call into C++)
    rather than its Python `search`, which builds a match object in Python: 0.6 us a call
    instead of 4.5 (Python's `re`: 0.2). Answers are remembered per text, as the same keys and
    paths are asked again and again (every values file has `image`; every check asks a file's
    path): the checks that match SOPS rules and schema patterns stay as fast as with `re`."""

    __slots__ = ("_anchor", "_answers", "_match", "_regexp", "pattern")
    MEMO = 1 << 16  # answers kept per pattern; then forgotten and kept again

    def __init__(self, regexp: Any) -> None:
        self._regexp = regexp
        self.pattern: str = regexp.pattern
        self._answers: dict[str, bool] = {}
        inner: Any = getattr(regexp, "_regexp", None)
        anchor = getattr(getattr(inner, "Anchor", None), "UNANCHORED", None)
        # google-re2's internals: where a version lacks them, its public search (same answers)
        self._match = inner.Match if anchor is not None and hasattr(inner, "Match") else None
        self._anchor = anchor

    def search(self, text: str) -> bool:
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
