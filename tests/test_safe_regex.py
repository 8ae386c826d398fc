"""engines/safe_regex.py: the repositories' regular expressions in RE2, asked through google-re2's
compiled program directly and remembered per text -- the same answers as google-re2's own
`search` (and as Python's `re` wherever both accept the pattern), in linear time."""

from __future__ import annotations

import random
import re
import time

import pytest
import re2

from checks.engines.safe_regex import SafePattern, UnsafePattern, compile_untrusted, required_literal, search

PATTERNS = [
    r"^(data|stringData|password|secret)$", r"customers/.*/secrets\.ya?ml$", r"(a)(b)?c", r"\.enc\.", "",
    r"^$", r"[[:alpha:]]+_unencrypted$", r"(?i)PASSWORD", r"ä+", r"\bkey\b", r"^(a+)+$",
]
TEXTS = ["password", "data", "customers/acme/billing/secrets.yaml", "customers/acme/billing/secrets.yml",
         "products/x/secrets.yaml", "abc", "ac", "zab", "", "x.enc.yaml", "MyPassword", "ää", "a key here",
         "monkey", "a" * 40 + "!", "aaaa", "key_unencrypted", "日本語", "\ud800lone"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_same_answers_as_google_re2_search_and_pythons_re(pattern: str):
    safe = compile_untrusted(pattern)
    reference = re2.compile(pattern)
    for text in TEXTS:
        if "\ud800" in text:  # google-re2's search cannot encode a lone surrogate at all
            assert safe.search(text) in (True, False)
            continue
        expected = reference.search(text) is not None
        assert safe.search(text) is expected, (pattern, text)
        assert safe.search(text) is expected  # and again, remembered
        if pattern not in (r"^(a+)+$", r"[[:alpha:]]+_unencrypted$"):  # exponential in re; RE2-only syntax
            assert (re.search(pattern, text) is not None) is expected, (pattern, text)


def test_the_public_search_is_used_where_the_internals_are_missing():
    class PublicOnly:  # a google-re2 without `_regexp`: its public search answers
        pattern = "b+"

        def search(self, text: str):
            return re2.search("b+", text)

    safe = SafePattern(PublicOnly())
    assert safe.search("abbc") is True and safe.search("ac") is False


def test_answers_are_remembered_within_a_bound():
    safe = compile_untrusted(r"x\d+")
    for i in range(SafePattern.MEMO + 10):
        assert safe.search(f"x{i}") is True
    assert len(safe._answers) <= SafePattern.MEMO


def test_catastrophic_pattern_costs_microseconds():
    started = time.monotonic()
    assert search(r"^(a+)+$", "a" * 100_000 + "!") is False
    assert time.monotonic() - started < 1


def test_patterns_re2_cannot_run_are_reported():
    for pattern in (r"(?=x)x", r"(a)\1", "x" * 20_000):
        with pytest.raises(UnsafePattern):
            compile_untrusted(pattern)


@pytest.mark.parametrize(("pattern", "needle"), [
    (r"customers/[^/]+/[^/]+/secrets\.yaml$", "/secrets.yaml"),  # the bench trees' and the docs' path rules
    (r"shared/common-secrets/.*\.yaml$", "shared/common-secrets/"),
    (r"\.enc\.", ".enc."), (r"_unencrypted$", "_unencrypted"), (r"\bkey\b", "key"),
    (r"abc+d", "ab"), (r"ab*?cd", "cd"), (r"(a)(b)?c", "c"), (r"[]a]bc", "bc"), (r"[^]a]bc", "bc"),
    (r"(x[)]y)zz", "zz"), (r"(?:ab)cd", "cd"),
    # nothing simple to read: always asked in full
    (r"^(data|stringData|password|secret)$", None), (r"a|bcd", None), (r"x{2}yy", None), (r"(?i)PASSWORD", None),
    (r"(?i:ab)cd", None), (r"\Qa.b\E", None), (r"\x41BC", None), (r"\pLab", None), (r"[[:alpha:]]+_x$", None),
    (r"ä+", None), ("", None), (r"^$", None), (r"^(a+)+$", None), (r"(ab", None), (r"(a\Q)\E)bc", None),
])
def test_required_literal_is_read_only_off_plain_sequences(pattern: str, needle: str | None):
    assert required_literal(pattern) == needle


def test_the_required_literal_never_changes_an_answer():
    """Patterns built at random from the syntax the prefilter reads (and some it refuses), against
    texts built from the same characters: every answer is google-re2's own."""
    rng = random.Random(21)  # noqa: S311 - reproducible test inputs, not secrets
    atoms = ["a", "b", "/", "-", "_", ".", r"\.", r"\/", "[^/]", "[ab]", "[]a]", "[^]b]", "(a|b)", "(?:ab)",
             "(a(b)?)", "^", "$", r"\d", r"\b", "a|", "{2}", "(?i)", "x", "A", " ", r"\Q.\E", "(?i:a)", "[(]"]
    texts = ["", "a", "ab", "ba/b.", "a.b/ab", "/a-b_", "AB", "a\nb", "aab/b", "x.a/b", "b]a", "ab ab", "a(b"]
    alphabet = "ab/._-x \n]1A("
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(60)]
    read = 0
    for _ in range(1500):
        pattern = "".join(rng.choice(atoms) + rng.choice(["", "", "", "*", "+", "?", "+?"])
                          for _ in range(rng.randint(1, 6)))
        try:
            reference = re2.compile(pattern)
            safe = compile_untrusted(pattern)
        except (re2.error, UnsafePattern):
            continue
        read += required_literal(pattern) is not None
        for text in texts:
            assert safe.search(text) is (reference.search(text) is not None), (pattern, text)
    assert read > 300  # the prefilter was in play for many of them
