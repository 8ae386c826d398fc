"""Find plaintext secrets with detect-secrets' detectors, deciding by structure what to skip.

detect-secrets alone scans raw lines: it flags SOPS ciphertext and secret *names*
(`existingSecret:`), and misses values in list items and block scalars. Here every
string value of every YAML document is handed to detect-secrets' plugins as a
synthetic `key: "value"` line, with the key that gives it meaning (for a Kubernetes
env entry `{name: DB_PASSWORD, value: ...}` that is the entry's `name`). Skipped by
structure, never by entropy guesswork: SOPS ciphertext and metadata, Sealed Secrets'
`spec.encryptedData`, secret references (argocd-vault-plugin `<path:...>`, `vault:`,
`ref+...://`, External Secrets `remoteRef`) and keys that name a secret
(`existingSecret`, `secretName`, `*SecretRef`, `secretKeyRef`...).

A hit carries the detector type and a short hash; the value itself never leaves
this module.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks.core.findings import KeyPath
from checks.repo.documents import YamlDocument

SOPS_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*\]$", re.DOTALL)
REFERENCE = re.compile(
    r"^\s*(<path:[^>]+>|vault:\S+|ref\+[a-z0-9]+://\S+|secretref\+\S+|\$\{[^}]+\}|\{\{.*\}\}|"
    r"(awssm|awsssm|gcpsm|azkv|k8s)://\S+)\s*$", re.IGNORECASE | re.DOTALL)
# Public keys are meant to be shared: age recipients and SSH public keys.
PUBLIC_KEY = re.compile(
    r"^(age1[02-9ac-hj-np-z]{58}|(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+) AAAA[0-9A-Za-z+/=]+( \S+)?)$")
# Keys whose value names a secret (or points into a secret store) instead of holding one.
NAMING_KEY = re.compile(
    r"^(existing[-_]?secret\w*|secret[-_]?name|\w*secret[-_]?ref|secretkeyref|configmapkeyref|remoteref|"
    r"secretstoreref|\w*secret[-_]?key[-_]?(name|ref)|\w*[-_]?secret[-_]?names?|valuefrom|external[-_]?secret\w*|"
    r"secretproviderclass|secrets?store\w*)$",
    re.IGNORECASE)
# Keys whose hex value is a digest: git commits, image and file checksums.
HASH_KEY = re.compile(r"(sha|digest|checksum|commit|revision|hash|fingerprint|etag)", re.IGNORECASE)
# detect-secrets filters that judge whole files; we decide about files by structure.
_FILE_FILTERS = ("is_invalid_file", "is_non_text_file", "is_swagger_file", "is_lock_file")
DEFAULT_DISABLED: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    line: int | None
    key_path: KeyPath
    detectors: tuple[str, ...]  # specific detectors first, entropy guesses last
    digest: str  # first 8 hex of sha256(value): identity without disclosure

    @property
    def detector(self) -> str:
        return self.detectors[0]

    @property
    def label(self) -> str:
        return f"{', '.join(self.detectors)} (sha256:{self.digest})"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


class Detectors:
    """detect-secrets' plugins and line filters, with a cache: config repos repeat values a lot."""

    def __init__(self, disabled: tuple[str, ...] = DEFAULT_DISABLED) -> None:
        from detect_secrets.settings import default_settings, get_filters, get_plugins

        with default_settings():
            self.plugins = [p for p in get_plugins() if type(p).__name__ not in disabled]
            self.filters = [f for f in get_filters() if not f.path.endswith(_FILE_FILTERS)]
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def scan_line(self, line: str, filename: str) -> tuple[str, ...]:
        """Detector types that fire on one line (after detect-secrets' own false-positive filters)."""
        ext = filename.rsplit(".", 1)[-1] if "." in filename else ""
        key = (ext, line)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        from detect_secrets.util.code_snippet import get_code_snippet
        from detect_secrets.util.inject import call_function_with_arguments

        context = get_code_snippet([line], 1)
        found: set[str] = set()
        for plugin in self.plugins:
            try:
                secrets = plugin.analyze_line(filename=filename, line=line, line_number=1, context=context)
            except Exception:  # noqa: S112 - one odd line must not stop a scan
                continue
            for secret in secrets:
                if secret.type in found:
                    continue
                if not self._filtered(secret.secret_value, plugin, line, context, filename,
                                      call_function_with_arguments):
                    found.add(secret.type)
        result = tuple(sorted(found))
        if len(self._cache) < 200_000:
            self._cache[key] = result
        return result

    def _filtered(self, value: str | None, plugin: Any, line: str, context: Any, filename: str, call: Any) -> bool:
        for fn in self.filters:
            try:
                if call(fn, filename=filename, secret=value, plugin=plugin, line=line, context=context):
                    return True
            except TypeError:
                continue
        return False


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _worth_scanning(value: str) -> bool:
    if not value.strip() or SOPS_VALUE.match(value) or REFERENCE.match(value):
        return False
    return not all(PUBLIC_KEY.match(part.strip()) for part in value.split(","))


def _env_name(item: dict) -> str | None:
    name = item.get("name")
    return name if isinstance(name, str) and ("value" in item) else None


def walk_strings(doc: YamlDocument, skip_sops: bool = True) -> Iterator[tuple[KeyPath, str, str]]:
    """(key path, detector key, string) for every string value worth scanning in one document."""
    root = doc.value
    sealed = isinstance(root, dict) and root.get("kind") == "SealedSecret"
    # an explicit stack, in document order (reversed pushes): nested generators cost more than the scan
    stack: list[tuple[Any, KeyPath, str]] = [(root, (), "")]
    while stack:
        value, path, key = stack.pop()
        if isinstance(value, dict):
            env = _env_name(value)
            children = []
            for k, v in value.items():
                if not path and skip_sops and k == "sops" and isinstance(v, dict):
                    continue
                if sealed and path == ("spec",) and k == "encryptedData":
                    continue
                if NAMING_KEY.match(k):
                    continue
                # The detector sees the nearest two keys (`password.secure` -> `password_secure`),
                # or an env entry's name for its value.
                child_key = env if (env and k == "value") else (f"{key}_{k}" if key and not env else k)
                children.append((v, (*path, k), child_key))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(item, (*path, i), key) for i, item in enumerate(value)]))
        elif isinstance(value, str):
            if _worth_scanning(value):
                yield path, key, value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and len(str(value)) >= 12:
            yield path, key, str(value)


def scan_document(doc: YamlDocument, detectors: Detectors, filename: str, skip_sops: bool = True) -> list[Hit]:
    hits: list[Hit] = []
    for path, key, value in walk_strings(doc, skip_sops):
        pos = doc.locate(path)
        line = pos[0] if pos else None
        if "\n" in value.strip():
            # A block scalar: a config file or a PEM key inside YAML; scan each of its lines.
            for offset, text in enumerate(value.splitlines()):
                if text.strip():
                    found = detectors.scan_line(text, filename) + _scan_assignment(text, detectors, filename)
                    if found:
                        hits.append(Hit(line + 1 + offset if line else None, path, found, digest(text.strip())))
            continue
        found = detectors.scan_line(f"{key}: {_quote(value)}", filename)
        if found and set(found) <= {"Hex High Entropy String"} and HASH_KEY.search(key):
            continue  # a hex digest under a key that says so (commit, sha, checksum): identity, not a secret
        if found:
            hits.append(Hit(line, path, found, digest(value)))
    return _merge(hits)


def scan_text(text: str, detectors: Detectors, filename: str) -> list[Hit]:
    """Line by line, for files that are not YAML (Terraform, .env, .ini, .properties...)."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or len(stripped) > 4000 or "ENC[" in stripped or stripped.startswith(("#", ";", "//")):
            continue
        found = detectors.scan_line(line, filename) + _scan_assignment(line, detectors, filename)
        if found:
            hits.append(Hit(number, (), found, digest(stripped)))
    return _merge(hits)


_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.\-]*)\s*[=:]\s*([^\s\"'#;][^#;]*?)\s*(?:[#;].*)?$")


def _scan_assignment(line: str, detectors: Detectors, filename: str) -> tuple[str, ...]:
    """`KEY=value` / `key = value` lines (.env, .ini, .properties) read as `KEY: "value"`: detect-secrets'
    entropy and keyword plugins look for quoted values outside their own file transformers."""
    if filename.endswith((".tf", ".tfvars", ".hcl")):
        return ()  # unquoted HCL is an expression (var.x, true), never a literal secret
    m = _ASSIGNMENT.match(line)
    if not m or not _worth_scanning(m.group(2)) or _LITERAL.match(m.group(2)):
        return ()
    return detectors.scan_line(f"{m.group(1)}: {_quote(m.group(2))}", filename)


_LITERAL = re.compile(r"^(true|false|yes|no|on|off|null|none|~|-?\d+(\.\d+)?)$", re.IGNORECASE)
_ENTROPY = ("Base64 High Entropy String", "Hex High Entropy String")


def _merge(hits: list[Hit]) -> list[Hit]:
    """One hit per value: every detector that fired on it, specific ones first."""
    merged: dict[tuple, set[str]] = {}
    for hit in hits:
        merged.setdefault((hit.line, hit.key_path, hit.digest), set()).update(hit.detectors)
    return [Hit(line, path, tuple(sorted(found, key=lambda d: (d in _ENTROPY, d))), dig)
            for (line, path, dig), found in merged.items()]
