"""SOPS, read without any key: is a file encrypted, and is every value SOPS would encrypt
actually ciphertext? Plus the rules of `.sops.yaml`.

What SOPS encrypts (getsops/sops `sops.go`, `Tree.Encrypt`): every leaf value, except
under a key that ends with `unencrypted_suffix` (default `_unencrypted`) or matches
`unencrypted_regex`; or, when `encrypted_suffix` / `encrypted_regex` is set, only
under a key that ends with / matches it. The decision made for a key covers its
whole subtree. Keys, and the `sops` metadata block, are never encrypted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from checks.core.findings import KeyPath
from checks.engines.safe_regex import UnsafePattern, compile_untrusted
from checks.engines.secret_scan import SOPS_VALUE

KEY_SOURCES = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")
SELECTORS = ("encrypted_suffix", "unencrypted_suffix", "encrypted_regex", "unencrypted_regex",
             "encrypted_comment_regex", "unencrypted_comment_regex")


@dataclass
class SopsMeta:
    present: bool
    problems: list[tuple[str, KeyPath]] = field(default_factory=list)
    encrypted_suffix: str | None = None
    unencrypted_suffix: str | None = None
    encrypted_regex: Any = None  # compiled by RE2
    unencrypted_regex: Any = None


def _compile(pattern: Any, problems: list, where: KeyPath) -> Any:
    """RE2, as SOPS itself (Go's regexp): linear time whatever the pattern, the same syntax."""
    if not isinstance(pattern, str):
        return None
    try:
        return compile_untrusted(pattern)
    except UnsafePattern as exc:
        problems.append((f"{where[-1]} {pattern[:200]!r} is not a valid regular expression for SOPS (RE2): {exc}",
                         where))
        return None


def read_meta(doc_value: Any) -> SopsMeta:
    """The `sops` block of a YAML/JSON document: present, complete, and its encryption selectors."""
    if not isinstance(doc_value, dict) or not isinstance(doc_value.get("sops"), dict):
        return SopsMeta(False)
    block = doc_value["sops"]
    meta = SopsMeta(True)
    for required in ("mac", "lastmodified", "version"):
        if not block.get(required):
            meta.problems.append((f"the sops block has no {required!r}: not a complete SOPS file", ("sops",)))
    if isinstance(block.get("mac"), str) and block["mac"] and not SOPS_VALUE.match(block["mac"]):
        meta.problems.append(("the sops mac is not ciphertext", ("sops", "mac")))
    groups = [s for s in KEY_SOURCES if block.get(s)]
    if not groups and not block.get("key_groups"):
        meta.problems.append(("the sops block lists no key (age, pgp, kms, gcp_kms, azure_kv, hc_vault)", ("sops",)))
    meta.encrypted_suffix = block.get("encrypted_suffix") or None
    meta.unencrypted_suffix = block.get("unencrypted_suffix") or None
    meta.encrypted_regex = _compile(block.get("encrypted_regex"), meta.problems, ("sops", "encrypted_regex"))
    meta.unencrypted_regex = _compile(block.get("unencrypted_regex"), meta.problems, ("sops", "unencrypted_regex"))
    if not any((meta.encrypted_suffix, meta.unencrypted_suffix, meta.encrypted_regex, meta.unencrypted_regex)):
        meta.unencrypted_suffix = "_unencrypted"  # SOPS's default
    return meta


def _decide(meta: SopsMeta, key: str) -> bool | None:
    """True: this key's subtree is encrypted; False: left in clear; None: no decision at this key."""
    if meta.unencrypted_suffix and key.endswith(meta.unencrypted_suffix):
        return False
    if meta.unencrypted_regex is not None and meta.unencrypted_regex.search(key):
        return False
    if meta.encrypted_suffix and key.endswith(meta.encrypted_suffix):
        return True
    if meta.encrypted_regex is not None and meta.encrypted_regex.search(key):
        return True
    return None


def leaves(doc_value: dict, meta: SopsMeta) -> list[tuple[KeyPath, Any, bool]]:
    """(path, value, should-be-encrypted) for every leaf outside the sops block, in document order
    (gathered into a list by a plain recursion: a generator per level cost more than the walk)."""
    selective = meta.encrypted_suffix is not None or meta.encrypted_regex is not None
    out: list[tuple[KeyPath, Any, bool]] = []

    def walk(value: Any, path: KeyPath, encrypt: bool | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if not path and k == "sops":
                    continue
                walk(v, (*path, k), encrypt if encrypt is not None else _decide(meta, str(k)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i), encrypt)
        else:
            out.append((path, value, encrypt if encrypt is not None else not selective))

    walk(doc_value, (), None)
    return out


def is_ciphertext(value: Any) -> bool:
    return isinstance(value, str) and bool(SOPS_VALUE.match(value))


# -- dotenv / ini SOPS files ---------------------------------------------------------
def text_file_encrypted(text: str) -> bool:
    """SOPS dotenv/ini files carry `sops_mac=ENC[...]` (dotenv) or a [sops] section (ini)."""
    return bool(re.search(r"^\s*sops_mac\s*=\s*ENC\[", text, re.MULTILINE)) or \
        bool(re.search(r"^\s*\[sops\]\s*$", text, re.MULTILINE) and re.search(r"^\s*mac\s*=\s*ENC\[", text,
                                                                              re.MULTILINE))


# -- .sops.yaml ----------------------------------------------------------------------
Recipients = dict[str, frozenset[str]]  # key source (age, pgp, kms...) -> its recipients


@dataclass(frozen=True)
class CreationRule:
    index: int
    path_regex: Any  # compiled by RE2; None: matches every file
    recipients: Recipients = field(default_factory=dict)


# The field that names a recipient in a file's sops block, per key source (sops' stores).
_FILE_ID = {"age": "recipient", "pgp": "fp", "kms": "arn", "gcp_kms": "resource_id", "azure_kv": "vaultUrl",
            "hc_vault": "vault_address", "hckms": "key_id"}


def _split(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _normal(source: str, ident: str) -> str:
    return ident.upper().replace(" ", "") if source == "pgp" else ident


def rule_recipients(rule: dict) -> Recipients:
    """The recipients a .sops.yaml rule encrypts to, by key source (key_groups included)."""
    out: dict[str, set[str]] = {}
    groups = [rule, *[g for g in rule.get("key_groups") or [] if isinstance(g, dict)]]
    for group in groups:
        for source in KEY_SOURCES:
            raw = group.get(source)
            items = raw if isinstance(raw, list) and raw and isinstance(raw[0], dict) else _split(raw)
            for item in items:
                ident = item.get(_FILE_ID[source]) if isinstance(item, dict) else item
                if isinstance(ident, str) and ident:
                    out.setdefault(source, set()).add(_normal(source, ident))
    return {k: frozenset(v) for k, v in out.items()}


def file_recipients(doc_value: Any) -> Recipients:
    """The recipients a SOPS file is encrypted to, read from its sops block (no key needed)."""
    if not isinstance(doc_value, dict) or not isinstance(doc_value.get("sops"), dict):
        return {}
    block = doc_value["sops"]
    out: dict[str, set[str]] = {}
    groups = [block, *[g for g in block.get("key_groups") or [] if isinstance(g, dict)]]
    for group in groups:
        for source in KEY_SOURCES:
            for item in group.get(source) or []:
                ident = item.get(_FILE_ID[source]) if isinstance(item, dict) else None
                if isinstance(ident, str) and ident:
                    out.setdefault(source, set()).add(_normal(source, ident))
    return {k: frozenset(v) for k, v in out.items()}


def recipient_problems(rule: Recipients, file: Recipients) -> list[str]:
    """How a file's recipients differ from its creation rule's: the key sources the rule names that
    the file lacks (PGP-only file under an age rule, or the reverse), then missing recipients."""
    problems = []
    for source in sorted(rule):
        have = file.get(source, frozenset())
        if not have:
            kinds = ", ".join(sorted(file)) or "no key"
            problems.append(f"the .sops.yaml rule encrypts to {source} but the file is encrypted to {kinds} only "
                            f"(run sops updatekeys)")
            continue
        # a PGP rule may name a long key id; the file records the full fingerprint
        missing = [r for r in sorted(rule[source])
                   if not any(h == r or (source == "pgp" and h.endswith(r)) for h in have)]
        if missing:
            problems.append(f"the file is not encrypted to {len(missing)} {source} recipient(s) the .sops.yaml "
                            f"rule names ({', '.join(m[:16] + '...' for m in missing)}; run sops updatekeys)")
    return problems


@dataclass
class SopsConfig:
    rules: list[CreationRule] = field(default_factory=list)
    problems: list[tuple[str, KeyPath, str]] = field(default_factory=list)  # message, where, severity

    def first_match(self, path: str) -> CreationRule | None:
        for rule in self.rules:
            if rule.path_regex is None or rule.path_regex.search(path):
                return rule
        return None


def read_config(value: Any) -> SopsConfig:
    config = SopsConfig()
    if value is None:
        return config
    if not isinstance(value, dict):
        config.problems.append(("a .sops.yaml must be a mapping with creation_rules", (), "error"))
        return config
    rules = value.get("creation_rules")
    if rules is None:
        return config
    if not isinstance(rules, list):
        config.problems.append(("creation_rules must be a list", ("creation_rules",), "error"))
        return config
    catch_all_at: int | None = None
    for i, rule in enumerate(rules):
        where: KeyPath = ("creation_rules", i)
        if not isinstance(rule, dict):
            config.problems.append(("each creation rule must be a mapping", where, "error"))
            continue
        if catch_all_at is not None:
            config.problems.append((f"unreachable: rule {catch_all_at + 1} has no path_regex and matches every "
                                    "file first (the first matching rule wins)", where, "warning"))
        selectors = [s for s in SELECTORS if s in rule]
        if len(selectors) > 1:
            config.problems.append((f"only one of {', '.join(SELECTORS)} per rule (this one has "
                                    f"{', '.join(selectors)})", where, "error"))
        if not any(rule.get(s) for s in KEY_SOURCES) and not rule.get("key_groups"):
            config.problems.append(("no key (age, pgp, kms, gcp_kms, azure_kv, hc_vault or key_groups): sops "
                                    "cannot encrypt with this rule", where, "error"))
        pattern = rule.get("path_regex")
        compiled = None
        if pattern is not None:
            problems: list = []
            compiled = _compile(pattern, problems, (*where, "path_regex"))
            for message, path in problems:
                config.problems.append((message, path, "error"))
            if compiled is None:
                continue
        elif catch_all_at is None:
            catch_all_at = i
        config.rules.append(CreationRule(i, compiled, rule_recipients(rule)))
    return config
