"""Path globbing, in the three dialects this suite meets.

- `pathmatch`: Go's `path.Match` (and shell `fnmatch` per segment): `*` and `?` never cross `/`.
- `legacy`: ArgoCD's default git files globbing (gobwas/glob without separators): `*` crosses `/`.
- `doublestar`: ArgoCD's new globbing: `*` stays within a segment, `**` spans segments.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str, mode: str) -> re.Pattern[str]:
    """mode: legacy (gobwas, `*` crosses `/`), doublestar, or pathmatch (Go path.Match)."""
    out, i = [], 0
    star = ".*" if mode == "legacy" else "[^/]*"
    one = "." if mode == "legacy" else "[^/]"
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i) and mode != "pathmatch":
                if mode == "doublestar" and pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                out.append(".*")
                i += 2
                continue
            out.append(star)
        elif c == "?":
            out.append(one)
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = end
        elif c == "{" and mode != "pathmatch" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            out.append("(?:" + "|".join(re.escape(a) for a in pattern[i + 1:end].split(",")) + ")")
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def glob_match(pattern: str, path: str, mode: str) -> bool:
    return bool(_glob_regex(pattern.lstrip("/"), mode).match(path))


@functools.lru_cache(maxsize=64)
def glob_any(patterns: tuple[str, ...], mode: str) -> Callable[[str], bool]:
    """Whether a path matches any of `patterns`: one regular expression for all of them (a check
    testing every file of a tree against a few patterns)."""
    if not patterns:
        return lambda path: False
    combined = re.compile("|".join(f"(?:{_glob_regex(p.lstrip('/'), mode).pattern})" for p in patterns))
    return lambda path: combined.match(path) is not None
