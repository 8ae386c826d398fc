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

Precision rules, each tested on real charts and SOPS files (tests/test_precision_secrets.py):

- a value's context is its own key and, only when that parent is a container of secrets
  (`passwords:`, `credentials:`, `auth:`...), its nearest parent -- never every ancestor
  (`passwordUpdateJob: {resourcesPreset: micro}` is not a password);
- JSON Schema documents are schemas, not values: only what a schema can leak is scanned
  (`default`, `const`, `enum`, `examples`), in the context of its property name;
- keys that name a secret instead of holding one: Bitnami's `existingSecret` + `secretKeys.*` /
  `*PasswordKey`, `*SecretName`, `*FromSecret`, Traefik's `basicAuth.secret: <name>`, and
  `*_file` / `*File` / `*Path` keys holding a path (prometheus' `password_file`);
- placeholders (`ghp_XXXX...`, `sk-proj-xxxx`, `changeme`, `your-token`) and values that are not
  credentials (durations, `rate(15 days)`): detect-secrets' own heuristic filters decide where
  they can (`is_templated_secret`, `is_indirect_reference`, `is_sequential_string`...), ours the rest.

Every scan is bounded: long values and lines are scanned in overlapping chunks, and a file
stops being scanned after `max_bytes` (the caller reports it), so no value can make it slow.

A hit carries the detector type and a short hash; the value itself never leaves
this module.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks.core.findings import KeyPath
from checks.engines import secret_prefilter
from checks.repo.documents import YamlDocument

SOPS_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*\]$", re.DOTALL)
REFERENCE = re.compile(
    r"^\s*(<path:[^>]+>|vault:\S+|ref\+[a-z0-9]+://\S+|secretref\+\S+|\$\{[^}]+\}|\{\{.*\}\}|"
    r"(awssm|awsssm|gcpsm|azkv|k8s)://\S+)\s*$", re.IGNORECASE | re.DOTALL)
# Public keys are meant to be shared: age recipients and SSH public keys.
PUBLIC_KEY = re.compile(
    r"^(age1[02-9ac-hj-np-z]{58}|(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+) AAAA[0-9A-Za-z+/=]+( \S+)?)$")
# Keys whose value names a secret (or points into a secret store) instead of holding one:
# Bitnami's existingSecret/existingPasswordSecret and their `*PasswordKey`s (never `secretKey`,
# `apiKey`, `accessKey`: MinIO and S3 hold the secret itself there), `*SecretName`,
# `*FromSecret` (a secret to read from), `*SecretKeyRef`, External Secrets' refs.
NAMING_KEY = re.compile(
    r"^(existing[-_]?\w*|secret[-_]?name|\w*secret[-_]?ref|secretkeyref|configmapkeyref|remoteref|"
    r"secretstoreref|\w*secret[-_]?key[-_]?(name|ref)|\w*[-_]?secret[-_]?names?|valuefrom|external[-_]?secret\w*|"
    r"secretproviderclass|secrets?store\w*|\w*(password|passwd|user)[-_]?keys?|\w*from[-_]?secret|"
    r"\w*secret[-_]?key[-_]?selector)$",
    re.IGNORECASE)
# Parents whose children all name keys of a secret (Bitnami's `auth.secretKeys.adminPasswordKey`).
NAMING_PARENT = re.compile(r"^(secret[-_]?keys|existing[-_]?secret\w*|\w*secret[-_]?key[-_]?ref)$", re.IGNORECASE)
# A secret-naming key whose value is a Kubernetes object name under an auth middleware
# (Traefik's `basicAuth: {secret: authsecret}`).
AUTH_PARENT = re.compile(r"^(basic|digest|forward)?[-_]?auth$", re.IGNORECASE)
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# Keys holding a path to a secret (prometheus' `password_file`, `bearer_token_file`, `*Path`).
PATH_KEY = re.compile(r"(file|files|path|dir|directory|mount[-_]?path)$", re.IGNORECASE)
PATH_VALUE = re.compile(
    r"^(/|\./|\.\./|~/|[A-Za-z]:\\)?[\w.@%+=:,~-]*(/[\w.@%+=:,~{}$-]*)+$|^[\w.-]+\.[A-Za-z0-9]{1,5}$")
# Parents whose children are secrets whatever their own names (`passwords: {admin: ...}`).
SECRET_CONTAINER = re.compile(
    r"(^|[-_])(passwords?|passwd|secrets?|credentials?|creds|tokens?|api[-_]?keys?|auth|private[-_]?keys?)$|"
    r"(Passwords?|Secrets?|Credentials?|Tokens?|ApiKeys?|Auth)$", re.IGNORECASE)
# Keys whose hex value is a digest: git commits, image and file checksums.
# PGP fingerprints (`.sops.yaml`'s `pgp:`, a sops block's `fp:`) identify public keys.
HASH_KEY = re.compile(r"(sha|digest|checksum|commit|revision|hash|fingerprint|etag|^pgp$|^fp$)", re.IGNORECASE)
# Whole keys that pin a version, often by commit: pre-commit's `rev:`, `ref`, `version`, `tag`.
VERSION_KEY = re.compile(r"^(rev|ref|version|tag)$", re.IGNORECASE)
# Placeholders people write where a secret will go (ghp_XXXX..., sk-proj-xxxxxxxx, changeme, <your-token>).
PLACEHOLDER = re.compile(
    r"(x{6,}|X{6,}|\*{4,}|\.{3}|_{4,}|#{4,})|"
    r"^(change[-_ ]?me|change[-_ ]?it|replace[-_ ]?me|to[-_ ]?do|tbd|fixme|placeholder|dummy|example|sample|"
    r"redacted|masked|none|null|nil|undefined|empty)$|"
    r"^(<|\[|\()?(your|insert|enter|put|replace)[-_ ](your[-_ ])?[\w-]*(>|\]|\))?$|^(<|\[)?your[-_]?\w+(>|\])?$|"
    r"(^|[-_])(changeme|replaceme|placeholder|example|dummy|fake|redacted)([-_]|$)",
    re.IGNORECASE)
# Values that are not credentials whatever their key: durations, schedule expressions, cron.
NOT_CREDENTIAL = re.compile(
    r"^(\d+(\.\d+)?\s*(ns|us|µs|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hours?|d|days?|w|weeks?|y|years?)"
    r"(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d))*|(rate|cron|at)\(.*\)|[0-9*/,?LW#\- ]{9,}|"
    r"(true|false|yes|no|on|off|enabled|disabled)|-?\d+(\.\d+)?)$", re.IGNORECASE)
# detect-secrets filters that judge whole files; the check applies them to files (is_lock_file...)
_FILE_FILTERS = ("is_invalid_file", "is_non_text_file", "is_swagger_file", "is_lock_file")
DEFAULT_DISABLED: tuple[str, ...] = ()
# Bounds: a value or line longer than CHUNK is scanned in overlapping chunks (a secret is far
# shorter than OVERLAP), and a file stops being scanned after MAX_SCAN_BYTES.
CHUNK = 1000
OVERLAP = 200
MAX_SCAN_BYTES = 8 * 1024 * 1024
SCHEMA_VALUE_KEYS = ("default", "const", "enum", "examples", "example")


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
        from checks.engines.offline_requests import detect_secrets_offline

        with detect_secrets_offline():  # its plugins and filters are imported in here
            from detect_secrets.settings import default_settings, get_filters, get_plugins
            from detect_secrets.util.code_snippet import get_code_snippet  # noqa: F401 - loaded here too
            from detect_secrets.util.inject import call_function_with_arguments  # noqa: F401

            with default_settings():
                self.plugins = [p for p in get_plugins() if type(p).__name__ not in disabled]
                self.filters = [f for f in get_filters() if not f.path.endswith(_FILE_FILTERS)]
        # most lines cannot make any plugin fire: they never reach the per-plugin loop
        self._prefilter = secret_prefilter.build(self.plugins)
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}
        # (extension, line) -> what fires on the line, whether scanning took from the budget
        self.raw_lines: dict[tuple[str, str], tuple[tuple[str, ...], bool]] = {}
        self.values: dict[tuple[str, str, str], tuple[str, ...]] = {}  # (extension, key, value) -> what fires

    def scan_line(self, line: str, filename: str) -> tuple[str, ...]:
        """Detector types that fire on one line (after detect-secrets' own false-positive filters)."""
        ext = filename.rsplit(".", 1)[-1] if "." in filename else ""
        key = (ext, line)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._prefilter is not None and not self._prefilter.may_fire(line):
            if len(self._cache) < 200_000:
                self._cache[key] = ()
            return ()
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


# Config trees repeat the same keys and values for every customer: the decisions below are
# pure, so each distinct (key context, value) is judged once (bounded memos; long values are
# rare and judged each time).
_MEMO = 1 << 16
_SHORT = 256


def _worth_scanning(value: str) -> bool:
    if value.startswith("ENC["):  # SOPS ciphertext: each value unique, kept out of the memo
        return _judge_worth_scanning(value)
    return _worth_scanning_memo(value) if len(value) <= _SHORT else _judge_worth_scanning(value)


def _judge_worth_scanning(value: str) -> bool:
    if not value.strip() or SOPS_VALUE.match(value) or REFERENCE.match(value):
        return False
    return not all(PUBLIC_KEY.match(part.strip()) for part in value.split(","))


_worth_scanning_memo = functools.lru_cache(maxsize=_MEMO)(_judge_worth_scanning)


def not_a_secret(key: str, value: str) -> bool:
    """Values that cannot be credentials, decided before any detector runs: placeholders,
    durations and schedules, paths under `*_file` keys, and whatever detect-secrets' own
    heuristic filters reject about the bare value (templates, indirect references)."""
    if len(value) > _SHORT:
        return _not_a_secret(key, value)
    return _not_a_secret_memo(key, value)


def _not_a_secret(key: str, value: str) -> bool:
    from detect_secrets.filters.heuristic import is_indirect_reference, is_templated_secret

    stripped = value.strip()
    if len(stripped) < 4096 and (PLACEHOLDER.search(stripped) or NOT_CREDENTIAL.match(stripped)):
        return True
    if PATH_KEY.search(key) and " " not in stripped and PATH_VALUE.match(stripped):
        return True
    if is_templated_secret(stripped):
        return True
    # detect-secrets' expression needs an opening and a closing bracket (`x = f(y)`, `h['k']`);
    # without them its search backtracks over the whole line to find nothing
    line = f"{key}: {stripped}"
    return ("(" in line or "[" in line) and (")" in line or "]" in line) and is_indirect_reference(line)


_not_a_secret_memo = functools.lru_cache(maxsize=_MEMO)(_not_a_secret)


@functools.lru_cache(maxsize=_MEMO)
def _naming_key(parent: str, key: str) -> bool:
    return bool(NAMING_KEY.match(key) or NAMING_PARENT.match(parent))


def names_a_secret(parent: str, key: str, value: object) -> bool:
    """The key (or its parent) says the value is the name of a secret, not the secret."""
    if _naming_key(parent, key):
        return True
    return (key.lower() == "secret" and AUTH_PARENT.match(parent) is not None and isinstance(value, str)
            and K8S_NAME.match(value) is not None)


@functools.lru_cache(maxsize=_MEMO)
def context_key(parent: str, key: str) -> str:
    """The key detect-secrets sees: the value's own key, and its parent only when the parent
    is a container of secrets (`passwords: {admin: ...}` -> `passwords_admin`)."""
    if parent and SECRET_CONTAINER.search(parent):
        return f"{parent}_{key}"
    return key


def _env_name(item: dict) -> str | None:
    name = item.get("name")
    return name if isinstance(name, str) and ("value" in item) else None


def is_json_schema(doc_value: Any, filename: str) -> bool:
    """A JSON Schema document: by name (`*.schema.json`) or by its `$schema` keyword."""
    if filename.endswith(("schema.json", ".schema.yaml", ".schema.yml")):
        return True
    return isinstance(doc_value, dict) and isinstance(doc_value.get("$schema"), str)


def walk_strings(doc: YamlDocument, skip_sops: bool = True) -> Iterator[tuple[KeyPath, str, str]]:
    """(key path, detector key, string) for every string value worth scanning in one document."""
    yield from _walk_values(doc.value, (), "", "", skip_sops)


def _walk_values(root: Any, base: KeyPath, base_key: str, base_parent: str,
                 skip_sops: bool) -> Iterator[tuple[KeyPath, str, str]]:
    """(key path, detector key, string) of every string worth scanning under `root`, in document order."""
    if not isinstance(root, (dict, list)):
        found = _leaf(root, base_key)
        return iter([(base, base_key, found)] if found is not None else [])
    out: list[tuple[KeyPath, str, str]] = []
    sealed = isinstance(root, dict) and root.get("kind") == "SealedSecret"
    decisions = _KEY_DECISIONS
    worth, not_secret = _worth_scanning, not_a_secret
    # An explicit stack of the maps and lists being read, each with where its iteration stands: a
    # child map or list is read whole before its next sibling (document order); a leaf is judged
    # where it is met. Frame: (children, path, detector key, own key name, env entry name, is a map).
    stack: list[tuple[Iterator[tuple[Any, Any]], KeyPath, str, str, str | None, bool]] = [
        _frame(root, base, base_key, base_parent)]
    while stack:
        children, path, key, own, env, is_map = stack[-1]
        for k, v in children:
            if v is None or v is True or v is False:
                continue
            if is_map:
                k = str(k)
                decision = decisions.get((own, k))
                if decision is None:
                    decision = _key_decision(own, k)
                names, auth, child_key = decision
                if names or (auth and isinstance(v, str) and K8S_NAME.match(v) is not None):
                    continue  # names_a_secret
                if not path and skip_sops and k == "sops" and isinstance(v, dict):
                    continue
                if sealed and path == ("spec",) and k == "encryptedData":
                    continue
                # An env entry's value is read under the entry's name; anything else under its own
                # key, with the parent only when the parent holds secrets.
                if env and k == "value":
                    child_key = env
                child_own = k
            else:
                child_key, child_own = key, own
            if isinstance(v, str):
                if worth(v) and not not_secret(child_key, v):
                    out.append(((*path, k), child_key, v))
            elif isinstance(v, (dict, list)):
                stack.append(_frame(v, (*path, k), child_key, child_own))
                break
            elif isinstance(v, (int, float)) and len(str(v)) >= 12:
                out.append(((*path, k), child_key, str(v)))
        else:
            stack.pop()
    return iter(out)


def _frame(value: dict | list, path: KeyPath, key: str,
           own: str) -> tuple[Iterator[tuple[Any, Any]], KeyPath, str, str, str | None, bool]:
    if isinstance(value, dict):
        return iter(value.items()), path, key, own, _env_name(value), True
    return iter(enumerate(value)), path, key, own, None, False


def _leaf(value: Any, key: str) -> str | None:
    """The text to scan of a leaf that is not in a map or list, if any."""
    if isinstance(value, str):
        return value if _worth_scanning(value) and not not_a_secret(key, value) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(str(value)) >= 12:
        return str(value)
    return None


# (parent key, key) -> (names a secret whatever the value, names one when the value is a
# Kubernetes name, the detector key): every customer's files repeat the same keys.
_KEY_DECISIONS: dict[tuple[str, str], tuple[bool, bool, str]] = {}


def _key_decision(parent: str, key: str) -> tuple[bool, bool, str]:
    decision = (_naming_key(parent, key), key.lower() == "secret" and AUTH_PARENT.match(parent) is not None,
                context_key(parent, key))
    if len(_KEY_DECISIONS) >= _MEMO:
        _KEY_DECISIONS.clear()
    _KEY_DECISIONS[(parent, key)] = decision
    return decision


def walk_schema(root: Any) -> Iterator[tuple[KeyPath, str, str]]:
    """What a JSON Schema can leak: `default`, `const`, `enum` and `examples` values, each read
    in the context of the property it describes. Titles, descriptions and types are prose."""
    stack: list[tuple[Any, KeyPath, str]] = [(root, (), "")]
    while stack:
        node, path, prop = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*path, i), prop) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, dict):
            continue
        for k, v in reversed(list(node.items())):
            k = str(k)
            if k in SCHEMA_VALUE_KEYS:
                if names_a_secret("", prop, v):
                    continue
                if k in ("enum", "examples") and isinstance(v, list):
                    for i, item in enumerate(v):
                        yield from _walk_values(item, (*path, k, i), prop, "", True)
                else:
                    yield from _walk_values(v, (*path, k), prop, "", True)
            elif k in ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas") \
                    and isinstance(v, dict):
                for name, sub in reversed(list(v.items())):
                    stack.append((sub, (*path, k, name), str(name) if k != "$defs" and k != "definitions" else prop))
            elif isinstance(v, (dict, list)):
                stack.append((v, (*path, k), prop))


def chunks(text: str, size: int = CHUNK, overlap: int = OVERLAP) -> Iterator[str]:
    """Overlapping pieces of a long string: every substring up to `overlap` long is whole in one piece."""
    if len(text) <= size:
        yield text
        return
    step = size - overlap
    for start in range(0, len(text) - overlap, step):
        yield text[start:start + size]


class Budget:
    """Bytes a file may still have scanned; `exhausted` once it ran out (the caller reports it)."""

    def __init__(self, max_bytes: int = MAX_SCAN_BYTES) -> None:
        self.left = max_bytes
        self.max_bytes = max_bytes
        self.exhausted = False

    def take(self, n: int) -> bool:
        if self.left < n:
            self.exhausted = True
            return False
        self.left -= n
        return True


def _scan_value(key: str, value: str, detectors: Detectors, filename: str, budget: Budget) -> tuple[str, ...]:
    # as _scan_raw_line: a short value judged once per (extension, key, value), the budget charged
    if len(value) > CHUNK or budget.left < len(value):
        return _judge_value(key, value, detectors, filename, budget)
    memo_key = (filename.rsplit(".", 1)[-1] if "." in filename else "", key, value)
    memo = detectors.values
    known = memo.get(memo_key)
    if known is None:
        known = _judge_value(key, value, detectors, filename, Budget(len(value)))
        if len(memo) < 200_000:
            memo[memo_key] = known
    budget.take(len(value))
    return known


def _judge_value(key: str, value: str, detectors: Detectors, filename: str, budget: Budget) -> tuple[str, ...]:
    found: list[str] = []
    for piece in chunks(value):
        if not budget.take(len(piece)):
            break
        found.extend(detectors.scan_line(f"{key}: {_quote(piece)}", filename))
    return tuple(sorted(set(found)))


_QUOTED_ASSIGNMENT = re.compile(r"""^\s*(?:-\s+)?"?([\w.\-]+)"?\s*[=:]\s*(["'])(.*)\2\s*,?\s*(#.*|//.*)?$""")


def _line_value(text: str) -> tuple[str, str] | None:
    """The key and value of a one-assignment line (`key: value`, `KEY=value`, `key = "value"`)."""
    if len(text) > CHUNK:
        return None
    m = _QUOTED_ASSIGNMENT.match(text)
    if m:
        return m.group(1), m.group(3)
    m = _ASSIGNMENT.match(text.lstrip(" -") if text.lstrip().startswith("- ") else text)
    return (m.group(1), m.group(2)) if m else None


def _scan_raw_line(text: str, detectors: Detectors, filename: str, budget: Budget) -> tuple[str, ...]:
    """What fires on one line of a text file (or of a block scalar). The same lines recur in every
    customer's files: a line short enough to be one chunk, with the budget to scan it whole, is
    judged once per file extension (what the detectors' own cache is keyed by) and the budget
    charged as the judgement was."""
    if len(text) > CHUNK or budget.left < len(text):
        return _judge_raw_line(text, detectors, filename, budget)
    key = (filename.rsplit(".", 1)[-1] if "." in filename else "", text)
    memo = detectors.raw_lines
    known = memo.get(key)
    if known is None:
        scratch = Budget(len(text))
        known = (_judge_raw_line(text, detectors, filename, scratch), scratch.left < len(text))
        if len(memo) < 200_000:
            memo[key] = known
    if known[1]:
        budget.take(len(text))
    return known[0]


def _judge_raw_line(text: str, detectors: Detectors, filename: str, budget: Budget) -> tuple[str, ...]:
    assignment = _line_value(text)
    if assignment is not None:
        key, value = assignment
        if names_a_secret("", key, value) or _LITERAL.match(value) or not_a_secret(key, value):
            return ()  # the one value on the line is a name, a placeholder, a duration... (same rules as values)
    found: list[str] = []
    for piece in chunks(text):
        if not budget.take(len(piece)):
            break
        found.extend(detectors.scan_line(piece, filename) + _scan_assignment(piece, detectors, filename))
    return tuple(sorted(set(found)))


def scan_document(doc: YamlDocument, detectors: Detectors, filename: str, skip_sops: bool = True,
                  budget: Budget | None = None) -> list[Hit]:
    budget = budget or Budget()
    hits: list[Hit] = []
    walk = walk_schema(doc.value) if is_json_schema(doc.value, filename) else walk_strings(doc, skip_sops)
    for path, key, value in walk:
        if budget.exhausted:
            break
        if "\n" in value.strip():
            pos = doc.locate(path)
            line = pos[0] if pos else None
            # A block scalar: a config file or a PEM key inside YAML; scan each of its lines.
            for offset, text in enumerate(value.splitlines()):
                if text.strip():
                    found = _scan_raw_line(text, detectors, filename, budget)
                    if found:
                        hits.append(Hit(line + 1 + offset if line else None, path, found, digest(text.strip())))
            continue
        found = _scan_value(key, value, detectors, filename, budget)
        if found and set(found) <= {"Hex High Entropy String"} and (
                HASH_KEY.search(key) or VERSION_KEY.match(key.rsplit("_", 1)[-1])):
            continue  # a hex digest under a key that says so (commit, sha, checksum): identity, not a secret
        if found:
            pos = doc.locate(path)  # only for a hit: locating every value cost more than scanning it
            hits.append(Hit(pos[0] if pos else None, path, found, digest(value)))
    return _merge(hits)


def scan_text_lines(text: str, detectors: Detectors, filename: str, budget: Budget | None = None) -> list[Hit]:
    """Line by line (detect-secrets' line mode): files that are not YAML (Terraform, .env, .ini,
    .properties...) and YAML that does not parse, so a secret in a broken file is still found.
    Long lines are scanned in chunks; the budget bounds the whole file."""
    budget = budget or Budget()
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or "ENC[" in stripped or stripped.startswith(("#", ";", "//")):
            continue
        found = _scan_raw_line(line, detectors, filename, budget)
        if found:
            hits.append(Hit(number, (), found, digest(stripped)))
        if budget.exhausted:
            break
    return _merge(hits)


scan_text = scan_text_lines  # the name the checks used before line mode covered broken YAML


_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.\-]*)\s*[=:]\s*([^\s\"'#;][^#;]*?)\s*(?:[#;].*)?$")


def _scan_assignment(line: str, detectors: Detectors, filename: str) -> tuple[str, ...]:
    """`KEY=value` / `key = value` lines (.env, .ini, .properties) read as `KEY: "value"`: detect-secrets'
    entropy and keyword plugins look for quoted values outside their own file transformers."""
    if filename.endswith((".tf", ".tfvars", ".hcl")):
        return ()  # unquoted HCL is an expression (var.x, true), never a literal secret
    m = _ASSIGNMENT.match(line)
    if not m or not _worth_scanning(m.group(2)) or _LITERAL.match(m.group(2)) or not_a_secret(m.group(1), m.group(2)):
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


# Keys whose value is shown masked whatever it looks like (as the effective-value diffs do).
SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential",
                        re.IGNORECASE)


def masked(value: Any) -> str:
    return f"*** (sha256:{digest(str(value))})"


def mask_values(value: Any, detectors: Detectors, filename: str = "values.yaml", key: str = "",
                parent: str = "") -> Any:
    """A copy of a values tree with every secret-looking leaf shown as `*** (sha256:xxxxxxxx)`:
    under a secret key (`password`, `token`...) or flagged by the detectors -- and never a value
    whose key names a secret (`existingSecret`, `*PasswordKey`) or that cannot be one."""
    if isinstance(value, dict):
        return {k: mask_values(v, detectors, filename, str(k), key) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_values(v, detectors, filename, key, parent) for v in value]
    if value is None or isinstance(value, bool) or (isinstance(value, (int, float)) and len(str(value)) < 12):
        return value
    text = str(value)
    if names_a_secret(parent, key, text) or not _worth_scanning(text) or not_a_secret(key, text):
        return value
    context = context_key(parent, key) or "value"
    if SECRET_KEY.search(context) or any(detectors.scan_line(f"{context}: {_quote(piece)}", filename)
                                         for piece in chunks(text)):
        return masked(text)
    return value
