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


@lru_cache(maxsize=4096)
def compile_untrusted(pattern: str) -> Any:
    """The compiled pattern (with `.search`), or UnsafePattern."""
    import re2

    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"pattern longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.log_errors = False  # RE2 would print the pattern on stderr
    options.max_mem = 8 << 20
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = str(exc.args[0] if exc.args else exc)
        if isinstance(exc.args[0] if exc.args else None, bytes):
            reason = exc.args[0].decode("utf-8", "replace")
        raise UnsafePattern(reason) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text`; UnsafePattern when it cannot be run."""
    return compile_untrusted(pattern).search(text) is not None
