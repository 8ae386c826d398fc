"""`secrets/*`: no plaintext secret anywhere, every secret file really encrypted, a sane .sops.yaml."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from checks.core.findings import Finding, KeyPath, Severity, format_key_path
from checks.engines import sops
from checks.engines.secret_scan import MAX_SCAN_BYTES, Budget, Detectors, Hit, scan_document, scan_text_lines
from checks.model.platform import CONFIGS, is_chart_template
from checks.repo.documents import YAML_SUFFIXES, Limits, YamlDocument, decode_text, parse_json_text, parse_yaml_text
from checks.repo.globs import glob_match
from checks.repo.source import SourceError
from checks.runner.registry import Check, Option, register
from checks.scope.selection import shard_key

# All blobs of a PR's history scanned for secrets, together (option `history_max_bytes`).
HISTORY_MAX_BYTES = 64 * 1024 * 1024

if TYPE_CHECKING:
    from checks.repo.history import History
    from checks.runner.context import Context

SOPS_CONFIG = ".sops.yaml"
TEXT_SUFFIXES = (".tf", ".tfvars", ".env", ".ini", ".properties", ".conf", ".cfg", ".toml", ".json")
MUST_ENCRYPT = ("customers/*/*/secrets.yaml", "customers/*/*/secrets.yml")
STRUCTURED = (*YAML_SUFFIXES, ".json")  # files secrets/encryption and secrets/sops-recipients read parsed


def sops_config(ctx: Context) -> sops.SopsConfig:
    return ctx.sops_config()


def must_be_encrypted(ctx: Context, path: str, config: sops.SopsConfig | None = None) -> str | None:
    """Why `path` must be encrypted, or None (`config`: the run's .sops.yaml, when the caller holds it)."""
    if path == SOPS_CONFIG:
        return None  # the rules themselves (a `\.yaml$` rule matches them too): sops never encrypts them
    # every file is asked: the glob only where it can match (`customers/*/*/secrets.y*`)
    if path.startswith("customers/") and "secrets.y" in path and any(glob_match(p, path, "pathmatch")
                                                                    for p in MUST_ENCRYPT):
        return "customer secrets file"
    if path.startswith("shared/common-secrets/") and not path.endswith((".md", ".gitkeep")):
        return "shared secret"
    rule = (config or sops_config(ctx)).first_match(path)
    if rule is not None and rule.path_regex is not None:
        return f".sops.yaml creation rule {rule.index + 1}"
    return None


def detectors(ctx: Context) -> Detectors:
    return ctx.secret_detectors()


def _is_text_target(path: str) -> bool:
    parts = path.split("/")
    in_configs_dir = len(parts) >= 3 and parts[0] == "customers" and parts[2] == "configs"
    return path.endswith(TEXT_SUFFIXES) or (in_configs_dir and not path.endswith(YAML_SUFFIXES))


def encrypted_paths(doc: YamlDocument) -> set[KeyPath]:
    meta = sops.read_meta(doc.value)
    if not meta.present:
        return set()
    return {path for path, _, should in sops.leaves(doc.value, meta) if should}


def scan_parsed(documents: list[YamlDocument], det: Detectors, filename: str,
                budget: Budget | None = None) -> list[Hit]:
    budget = budget or Budget()
    hits: list[Hit] = []
    for doc in documents:
        found = scan_document(doc, det, filename, budget=budget)
        if found:
            # In a SOPS file, values SOPS encrypts are secrets/encryption's business (read only for a
            # document with hits: most have none).
            skip = encrypted_paths(doc)
            hits.extend(h for h in found if h.key_path not in skip)
    return hits


def skipped_file(path: str) -> bool:
    """Files detect-secrets itself does not scan (its file filters): lock files, binaries, swagger."""
    if _skipped_name(path.rpartition("/")[2]):
        return True
    from detect_secrets.filters.heuristic import is_swagger_file

    # is_swagger_file searches `.*swagger.*`, which backtracks over every path: look first
    return "swagger" in path and is_swagger_file(path)


@functools.lru_cache(maxsize=4096)
def _skipped_name(name: str) -> bool:
    """detect-secrets' lock-file and binary-extension filters, which read the file's name only:
    judged once per name (thousands of `values.yaml`)."""
    from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file

    return is_lock_file(name) or is_non_text_file(name)


def scanned_path(repo: str, path: str) -> bool:
    """Whether secrets/plaintext reads this file, at head and in a PR's commits alike: YAML (not a
    chart's templates) and text targets, less the files detect-secrets itself does not scan."""
    if skipped_file(path):
        return False
    if path.endswith(YAML_SUFFIXES):
        return not is_chart_template(repo, path)
    return _is_text_target(path)


@register
class Plaintext(Check):
    """No plaintext secret in any YAML value, Terraform file or config file.

    detect-secrets' detectors (every default plugin; `disable_plugins` option) run over
    each string value in context -- list items, block scalars, every document of a
    multi-document file -- and over each line of `.tf`, `.tfvars` and other text files.
    Skipped by structure: SOPS ciphertext, Sealed Secrets' `spec.encryptedData`, secret
    references (`<path:...>`, `vault:...`, `ref+vault://...`, External Secrets
    `remoteRef`) and keys that name a secret (`existingSecret`, `secretKeys.*`,
    `*PasswordKey`, `secretName`, `*SecretRef`, `*FromSecret`, `basicAuth.secret`, paths
    under `*_file`). A value's context is its own key, plus its parent only when the parent
    holds secrets (`passwords: {admin: ...}`); JSON Schemas are scanned only for `default`,
    `const`, `enum` and `examples`; placeholders (`changeme`, `ghp_XXXX...`, `<your-token>`)
    and durations are not credentials. A YAML file that does not parse is scanned line by
    line. Long values are scanned in chunks and a file at most 8 MiB (a warning says when
    the scan stopped). Kubernetes env entries are read as `NAME: value`. In PR mode every
    commit of base..head (and of infra-base..infra-head) is scanned too: a secret added and
    then deleted is still in the history. Findings show detector, key path and a short hash --
    never the value.
    Allow a false positive with `# pragma: allowlist secret` on its line.

    Passes:   existingSecret: billing-db
              password: "<path:secret/data/acme#db>"
    Fails:    env:
                - name: DB_PASSWORD
                  value: "Xk29fjQ0pLm3aQ"
    """

    id = "secrets/plaintext"
    options: ClassVar[dict[str, Option]] = {
        "disable_plugins": Option([], list, items=str, help="detect-secrets plugins to turn off, by class name"),
        "history_max_bytes": Option(HISTORY_MAX_BYTES, int,
                                    help="bytes of the PR's commits scanned (both repositories), all together"),
    }

    def run(self, ctx: Context) -> Iterator[Finding]:
        det = detectors(ctx)
        head_keys: set[tuple] = set()
        for repo in sorted(ctx.sources):
            for path in ctx.files_in_scope(repo):
                budget = Budget()
                for hit in self._scan_file(ctx, repo, path, det, budget):
                    head_keys.add((repo, path, hit.key_path, hit.digest))
                    yield self._finding(repo, path, hit)
                if budget.exhausted:
                    yield self.finding(f"secrets scan stopped after {budget.max_bytes} bytes of this file (the scan "
                                       "limit): the rest is not checked", severity=Severity.WARNING, repo=repo,
                                       path=path, line=1, discriminator="scan-limit")
        # one bound for the PR's commits of both repositories
        total = Budget(int(self.config.get("history_max_bytes") or HISTORY_MAX_BYTES))
        for repo, history in sorted(ctx.histories.items()):
            if history.commits and not total.exhausted:
                yield from self._history(ctx, repo, history, det, head_keys, total)

    def _scan_file(self, ctx: Context, repo: str, path: str, det: Detectors, budget: Budget) -> list[Hit]:
        if not scanned_path(repo, path):
            return []
        if path.endswith(YAML_SUFFIXES):
            parsed = ctx.store.get(repo, path)
            if parsed is None:
                return []
            if parsed.ok:
                return scan_parsed(parsed.documents, det, path, budget)
            # yaml/* reports why it does not parse; its secrets are still found, line by line
            text = self._text(ctx, repo, path)
            return [] if text is None else scan_text_lines(text, det, path, budget)
        # a text target (scanned_path)
        text = self._text(ctx, repo, path)
        if text is None or sops.text_file_encrypted(text):
            return []
        if path.endswith(".json"):
            docs, problems = parse_json_text(text)
            if not problems:
                ydocs, yproblems = parse_yaml_text(text, ctx.settings.limits)
                if ydocs and not any(p.fatal for p in yproblems):
                    return scan_parsed([ydocs[0].with_value(docs[0].value)], det, path, budget)
                return scan_parsed(docs, det, path, budget)
        return scan_text_lines(text, det, path, budget)

    @staticmethod
    def _text(ctx: Context, repo: str, path: str) -> str | None:
        entry = ctx.sources[repo].files().get(path)
        if entry is None or entry.is_symlink or entry.size > ctx.settings.limits.max_file_bytes:
            return None
        try:
            text, _ = decode_text(ctx.sources[repo].read(path))
        except (OSError, SourceError):
            return None
        return text

    def _finding(self, repo: str, path: str, hit: Hit, commit: str | None = None) -> Finding:
        where = format_key_path(hit.key_path)
        message = f"plaintext secret: {hit.label}" + (f" at {where}" if where else "")
        if commit:
            message += f" -- added in commit {commit[:12]} and still in the repository's history"
        return self.finding(message, repo=repo, path=path, line=hit.line, key_path=hit.key_path,
                            discriminator=f"{hit.digest}|{commit or ''}",
                            extra={"detector": hit.detector, "detectors": list(hit.detectors),
                                   **({"commit": commit} if commit else {})})

    def _history(self, ctx: Context, repo: str, history: History, det: Detectors, head_keys: set[tuple],
                 total: Budget) -> Iterator[Finding]:
        """Every commit of base..head: a secret added and removed again is still in the history.
        A blob that does not parse (syntax error, an unsafe tag, an alias bomb), is over the size
        limit or is not UTF-8 is scanned line by line, so breaking the file cannot hide its secret.
        Its size is asked first: of a blob over the scan limit (8 MiB, as for a file of the
        checkout) only that much is read and scanned, with a finding at the file; all blobs
        together are bounded (`history_max_bytes`): past it, a finding says what was not scanned.
        Never a silent stop, and never a whole oversized blob in memory."""
        reader = history.reader()
        limits: Limits = ctx.settings.limits
        try:
            for index, commit in enumerate(history.commits):
                for change in history.changes(commit):
                    if change.status == "D" or ctx.excluded(change.path) or not scanned_path(repo, change.path):
                        continue
                    if repo == CONFIGS and not ctx.scope.in_shard(shard_key(repo, change.path)):
                        continue  # another worker's (or shard's) customer: its head_keys are there
                    blob = reader.read(commit, change.path, min(MAX_SCAN_BYTES, total.left))
                    if blob is None:
                        continue
                    if not total.take(min(blob.size, MAX_SCAN_BYTES)):
                        left = len(history.commits) - index
                        yield self.finding(
                            f"history scan stopped after {total.max_bytes} bytes: this file in commit {commit[:12]} "
                            f"and what follows ({left} commits) were not scanned for secrets; split the change or "
                            "raise checks.options.secrets/plaintext.history_max_bytes",
                            repo=repo, path=change.path, discriminator=f"history-bound|{commit}",
                            extra={"commit": commit})  # about the PR's history: the PR owns it
                        return
                    if blob.truncated:
                        yield self.finding(
                            f"history scan read the first {MAX_SCAN_BYTES} bytes of this file's {blob.size} in commit "
                            f"{commit[:12]} (the scan limit): the rest was not scanned for secrets",
                            severity=Severity.WARNING, repo=repo, path=change.path,
                            discriminator=f"history-scan-limit|{commit}", extra={"commit": commit})
                    for hit in self._history_hits(blob.data, change.path, det, limits, blob.truncated):
                        key = (repo, change.path, hit.key_path, hit.digest)
                        if key in head_keys:
                            continue  # still there at head: reported already
                        head_keys.add(key)
                        yield self._finding(repo, change.path, hit, commit)
        finally:
            reader.close()

    @staticmethod
    def _history_hits(data: bytes, path: str, det: Detectors, limits: Limits, truncated: bool = False) -> list[Hit]:
        whole = not truncated and len(data) <= limits.max_file_bytes
        text, _ = decode_text(data) if whole else (None, None)
        if text is None:  # over the size limit, cut at the scan limit, binary or not UTF-8: its lines
            if b"\0" in data[:8192]:
                return []
            return scan_text_lines(data.decode("utf-8", "replace"), det, path, Budget())
        if sops.text_file_encrypted(text):
            return []
        if path.endswith(YAML_SUFFIXES):
            docs, problems = parse_yaml_text(text, limits)
            if docs and not any(p.fatal for p in problems):
                return scan_parsed(docs, det, path)
        return scan_text_lines(text, det, path, Budget())


@register
class Encryption(Check):
    """Secret files are really encrypted -- checked without any key.

    Must be encrypted: `customers/*/*/secrets.yaml`, everything under
    `shared/common-secrets/`, and every file a `.sops.yaml` creation rule matches.
    A SOPS file has a `sops` block with `mac`, `lastmodified`, `version` and at least
    one key; every value SOPS would encrypt under its `encrypted_regex` /
    `unencrypted_regex` / `encrypted_suffix` / `unencrypted_suffix` settings is
    `ENC[...]` -- a plaintext value slipped into an encrypted file is reported at its
    line. Every document of a multi-document file is checked. A SealedSecret passes, and so
    does a SOPS-encrypted `kind: Secret` (how SOPS and Flux document it); a plain Kubernetes
    `Secret` with `data`/`stringData` and no `sops` block fails anywhere (base64 is not
    encryption, and `ENC[...]` without a `sops` block is not SOPS).

    Passes:   -- customers/acme/billing/secrets.yaml --
              password: ENC[AES256_GCM,data:pQ2lcg==,iv:Z0Rr3Q==,tag:5K8Q0w==,type:str]
              sops:
                age: [{recipient: age1kxf0ucgjmtyfgqms7qchxupdh77u25p89dzazcu3xyhe83kzusrsq0mjq4, enc: "..."}]
                lastmodified: "2026-11-30T12:00:00Z"
                mac: ENC[AES256_GCM,data:3wKM,iv:Fz8R,tag:d6QQ,type:str]
                version: 3.9.0
    Fails:    -- customers/acme/billing/secrets.yaml --
              username: ENC[AES256_GCM,data:pQ2lcg==,iv:Z0Rr3Q==,tag:5K8Q0w==,type:str]
              password: hunter2      (plaintext next to ENC[...] values)
              sops:
                age: [{recipient: age1kxf0ucgjmtyfgqms7qchxupdh77u25p89dzazcu3xyhe83kzusrsq0mjq4, enc: "..."}]
                lastmodified: "2026-11-30T12:00:00Z"
                mac: ENC[AES256_GCM,data:3wKM,iv:Fz8R,tag:d6QQ,type:str]
                version: 3.9.0
    Fails:    -- customers/acme/billing/secrets.yaml --
              password: ENC[AES256_GCM,data:pQ2lcg==,iv:Z0Rr3Q==,tag:5K8Q0w==,type:str]      (no sops block)
    """

    id = "secrets/encryption"

    def run(self, ctx: Context) -> Iterator[Finding]:
        config = sops_config(ctx) if CONFIGS in ctx.sources else None
        for repo in sorted(ctx.sources):
            for path in ctx.files_in_scope(repo):
                if is_chart_template(repo, path):
                    continue
                why = must_be_encrypted(ctx, path, config) if repo == CONFIGS else None
                if path.endswith(STRUCTURED):
                    if why is None:  # most files: only a SOPS or (Sealed)Secret document is this check's
                        parsed = ctx.store.get(repo, path)
                        if parsed is None or not any(_sops_or_secret(d.value) for d in parsed.documents):
                            continue
                    yield from self._structured(ctx, repo, path, why)
                elif why:
                    yield from self._text(ctx, repo, path, why)

    def _structured(self, ctx: Context, repo: str, path: str, why: str | None) -> Iterator[Finding]:
        parsed = ctx.store.get(repo, path)
        if parsed is None or not parsed.ok:
            return  # yaml/* reports it; never a pass for a required file: the error fails the run
        docs = [d for d in parsed.documents if d.value is not None]
        if not docs:
            if why:
                yield self.finding(f"empty file where an encrypted one is required ({why})", repo=repo, path=path,
                                   line=1, discriminator="empty")
            return
        # every document: SOPS writes its sops block into each one of a multi-document file
        for index, doc in enumerate(docs):
            if why or _sops_or_secret(doc.value):  # the others hold nothing this check reports
                yield from self._document(repo, path, why, doc, index, len(docs))

    def _document(self, repo: str, path: str, why: str | None, doc: YamlDocument, index: int,
                  count: int) -> Iterator[Finding]:
        value = doc.value
        where = f"document {index + 1}: " if count > 1 else ""
        def disc(base: str) -> str:  # fingerprints of a single-document file stay as they were
            return base if index == 0 else f"{base}|{index}"

        if not _sops_or_secret(value):  # the first line of a later document looked up only when reported
            if why:
                yield self.finding(f"{where}not encrypted: a {why} must be a SOPS file or a SealedSecret",
                                   repo=repo, path=path, line=1 if index == 0 else _document_line(doc),
                                   discriminator=disc("unencrypted"))
            return
        meta = sops.read_meta(value)
        start = 1 if index == 0 else _document_line(doc)
        secret = isinstance(value, dict) and value.get("kind") == "Secret"
        if secret and (value.get("data") or value.get("stringData")) and not meta.present:
            # a SOPS-encrypted Secret (how SOPS and Flux document it) is checked below as a SOPS file
            key = "data" if value.get("data") else "stringData"
            pos = doc.locate((key,))
            yield self.finding(f"{where}a plain Kubernetes Secret: {key} is base64 or clear text, not encryption "
                               "(use SOPS or a SealedSecret)", repo=repo, path=path,
                               line=pos[0] if pos else start, key_path=(key,), discriminator=disc(""))
            return
        if isinstance(value, dict) and value.get("kind") == "SealedSecret":
            return
        if not meta.present:
            if why:
                yield self.finding(f"{where}not encrypted: a {why} must be a SOPS file or a SealedSecret",
                                   repo=repo, path=path, line=start, discriminator=disc("unencrypted"))
            return
        for message, key_path in meta.problems:
            pos = doc.locate(key_path)
            yield self.finding(where + message, repo=repo, path=path, line=pos[0] if pos else start,
                               key_path=key_path, discriminator=disc(message))
        encrypted = 0
        for key_path, leaf, should in sops.leaves(value, meta):
            if sops.is_ciphertext(leaf):
                encrypted += 1
            elif should and leaf not in (None, ""):  # SOPS leaves null and "" as they are
                pos = doc.locate(key_path)
                yield self.finding(f"{where}plaintext value in an encrypted file at {format_key_path(key_path)}: "
                                   "SOPS would encrypt it (re-encrypt the file with sops)", repo=repo, path=path,
                                   line=pos[0] if pos else None, column=pos[1] if pos else None, key_path=key_path,
                                   discriminator=disc(""))
        if encrypted == 0:
            yield self.finding(f"{where}the file has a sops block but no encrypted value at all", repo=repo,
                               path=path, line=start, discriminator=disc("no-ciphertext"))

    def _text(self, ctx: Context, repo: str, path: str, why: str) -> Iterator[Finding]:
        try:
            text, _ = decode_text(ctx.sources[repo].read(path))
        except (OSError, SourceError):
            return
        if text is not None and not sops.text_file_encrypted(text):
            yield self.finding(f"not encrypted: a {why} must be a SOPS file", repo=repo, path=path, line=1,
                               discriminator="unencrypted")


def _sops_or_secret(value: object) -> bool:
    """Whether a document has a `sops` key or is a (Sealed)Secret: the only documents where
    secrets/encryption finds anything other than "not encrypted" (most documents are neither)."""
    return isinstance(value, dict) and ("sops" in value or value.get("kind") in ("Secret", "SealedSecret"))


def _document_line(doc: YamlDocument) -> int:
    """The first line of a document: the earliest key it records."""
    lines = [pos[0] for pos in doc.positions.values() if pos and pos[0]]
    return min(lines) if lines else 1


@register
class SopsRecipients(Check):
    """A SOPS file is encrypted to the recipients its `.sops.yaml` creation rule names -- read
    from the file's `sops` block, without any key.

    The first rule whose `path_regex` matches the file (or a catch-all rule) decides. A key
    source the rule names that the file lacks (a file encrypted only to PGP keys under a rule
    naming an age recipient, or the reverse) and a recipient of the rule the file is not
    encrypted to are reported: whoever holds the rule's key cannot decrypt the file.
    `sops updatekeys FILE` fixes it.

    Passes:   -- .sops.yaml --
              creation_rules:
              - {path_regex: 'secrets\\.yaml$', age: age1kxf0ucgjmtyfgqms7qchxupdh77u25p89dzazcu3xyhe83kzusrsq0mjq4}
              -- customers/acme/billing/secrets.yaml --
              password: ENC[AES256_GCM,data:pQ2lcg==,iv:Z0Rr3Q==,tag:5K8Q0w==,type:str]
              sops:
                age: [{recipient: age1kxf0ucgjmtyfgqms7qchxupdh77u25p89dzazcu3xyhe83kzusrsq0mjq4, enc: "..."}]
                lastmodified: "2026-11-30T12:00:00Z"
                mac: ENC[AES256_GCM,data:3wKM,iv:Fz8R,tag:d6QQ,type:str]
                version: 3.9.0
    Fails:    -- .sops.yaml --
              creation_rules:
              - {path_regex: 'secrets\\.yaml$', age: age1kxf0ucgjmtyfgqms7qchxupdh77u25p89dzazcu3xyhe83kzusrsq0mjq4}
              -- customers/acme/billing/secrets.yaml --      (the rule names an age key; encrypted to PGP only)
              password: ENC[AES256_GCM,data:pQ2lcg==,iv:Z0Rr3Q==,tag:5K8Q0w==,type:str]
              sops:
                pgp: [{fp: D6174A7A0D1D5E3F6B1C5A1E4F3B2A1908D7C6B5, enc: "..."}]
                lastmodified: "2026-11-30T12:00:00Z"
                mac: ENC[AES256_GCM,data:3wKM,iv:Fz8R,tag:d6QQ,type:str]
                version: 3.9.0
    """

    id = "secrets/sops-recipients"

    def run(self, ctx: Context) -> Iterator[Finding]:
        config = sops_config(ctx)
        if not config.rules or CONFIGS not in ctx.sources:
            return
        for path in ctx.files_in_scope(CONFIGS):
            if not path.endswith(STRUCTURED) or path == SOPS_CONFIG:
                continue
            rule = config.first_match(path)
            if rule is None or not rule.recipients:
                continue
            parsed = ctx.store.get(CONFIGS, path)
            if parsed is None or not parsed.ok:
                continue
            for doc in parsed.documents:
                recipients = sops.file_recipients(doc.value)
                if not recipients:
                    continue  # not a SOPS document: secrets/encryption's business
                for message in sops.recipient_problems(rule.recipients, recipients):
                    pos = doc.locate(("sops",))  # only for a finding: positions are recorded when asked for
                    yield self.finding(f"{message} [creation rule {rule.index + 1}]", repo=CONFIGS, path=path,
                                       line=pos[0] if pos else 1, key_path=("sops",), discriminator=message)
                break  # SOPS writes the same block into every document


@register
class SopsConfigFile(Check):
    """`.sops.yaml` is well formed: creation rules with a valid `path_regex`, a key source,
    at most one encryption selector each, and no rule hidden behind a catch-all (the first
    matching rule wins).

    Passes:   creation_rules: [{path_regex: 'secrets\\.yaml$', age: age1...}]
    Fails:    creation_rules: [{age: age1...}, {path_regex: 'prod/.*', kms: ...}]   (2nd unreachable)
    """

    id = "secrets/sops-config"

    def run(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.scope.includes_file(CONFIGS, SOPS_CONFIG) and not ctx.scope.full:
            return
        parsed = ctx.store.get(CONFIGS, SOPS_CONFIG)
        if parsed is None or not parsed.ok or parsed.first is None:
            return
        for message, where, severity in sops_config(ctx).problems:
            pos = parsed.first.locate(where)
            yield self.finding(message, severity=Severity.parse(severity), repo=CONFIGS, path=SOPS_CONFIG,
                               line=pos[0] if pos else 1, column=pos[1] if pos else None, key_path=where,
                               discriminator=message)
