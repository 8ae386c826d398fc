"""Secrets never reach an output: the values and keys quoted in finding messages and key paths
go through the same detectors as the secrets checks and the diffs, and what they flag is shown
as `*** (sha256:xxxxxxxx)` (identity without disclosure).

A schema error quotes the value it rejects (`'AKIA...' is not one of [...]`), a Rego message
quotes whatever its author put in `sprintf`, and a secret used as a YAML key is a segment of
the key path: each of these runs through `Redactor` before any report sees it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from checks.core.findings import Finding, KeyPath

# Candidates: quoted strings, and bare runs of the characters tokens and keys are made of.
_QUOTED = re.compile(r"'([^'\n]{8,})'|\"([^\"\n]{8,})\"")
_BARE = re.compile(r"[A-Za-z0-9+/=_\-.:@~]{8,}")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
_SAFE = re.compile(r"^[a-z][a-z-]*(/[a-z][a-z-]*)?$|^[A-Za-z]+$|^\d[\d.,:-]*$")  # words, check ids, numbers


def masked_text(value: Any) -> str:
    return f"*** (sha256:{hashlib.sha256(str(value).encode('utf-8', 'surrogatepass')).hexdigest()[:8]})"


class Redactor:
    def __init__(self) -> None:
        self._detectors: Any = None
        self._verdicts: dict[str, bool] = {}

    def _secret(self, token: str) -> bool:
        verdict = self._verdicts.get(token)
        if verdict is None:
            if self._detectors is None:
                from checks.engines.secret_scan import Detectors

                self._detectors = Detectors()
            verdict = bool(self._detectors.scan_line(f"value: {json.dumps(token)}", "values.yaml"))
            if len(self._verdicts) < 100_000:
                self._verdicts[token] = verdict
        return verdict

    def text(self, text: str) -> str:
        """`text` with every quoted or bare token the detectors flag masked."""
        spans: list[tuple[int, int, str]] = []
        for m in _QUOTED.finditer(text):
            group = 1 if m.group(1) is not None else 2
            if self._secret(m.group(group)):
                spans.append((m.start(group), m.end(group), m.group(group)))
        for m in _BARE.finditer(text):
            token = m.group().strip(".:-")
            # bare hex is what this tool prints itself (commit ids, digests); a quoted one is still checked
            if len(token) >= 8 and not _SAFE.match(token) and not _HEX.match(token) and self._secret(token):
                start = m.start() + m.group().index(token)
                spans.append((start, start + len(token), token))
        if not spans:
            return text
        out, last = [], 0
        for start, end, secret in sorted(spans):
            if start < last:
                continue
            out.append(text[last:start] + masked_text(secret))
            last = end
        return "".join(out) + text[last:]

    def key(self, segment: str) -> str:
        return masked_text(segment) if len(segment) >= 8 and not _SAFE.match(segment) and self._secret(segment) \
            else segment

    def key_path(self, path: KeyPath) -> KeyPath:
        return tuple(self.key(p) if isinstance(p, str) else p for p in path)

    def finding(self, f: Finding) -> Finding:
        message = self.text(f.message)
        key_path = self.key_path(f.key_path)
        if message == f.message and key_path == f.key_path:
            return f
        return dataclasses.replace(f, message=message, key_path=key_path)
