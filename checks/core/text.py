"""Text from the repositories made safe to print: one line, nothing that drives a terminal."""

from __future__ import annotations

import re

# Every C0/C1 control (newline and tab too), Unicode line and paragraph separators,
# bidirectional overrides (which reorder what a reader sees), and the lone surrogates that
# stand for the bytes of a file name that is not UTF-8.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def escape_match(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """A path, key or value on one line: nothing in it can move the cursor, start a new line
    (a forged `passed` line), reorder text or fail to encode."""
    return _UNPRINTABLE.sub(escape_match, text)


def has_unprintable(text: str) -> bool:
    return _UNPRINTABLE.search(text) is not None


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:@=\"'])")


def markdown_text(text: str) -> str:
    """Text from a repository inside Markdown: no link, image, HTML, emphasis or mention it
    could start; on one line."""
    return _MARKDOWN.sub(r"\\\1", printable(text))


def markdown_code(text: str) -> str:
    """Text inside a Markdown code span: backticks cannot close it."""
    return printable(text).replace("`", "'")
