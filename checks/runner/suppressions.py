"""Inline suppressions (with a mandatory reason) and baselines keyed by fingerprint.

Inline: `# gitops-checks: ignore[CHECK-ID,...] reason` on the finding's line, or alone
on the line above it. detect-secrets' own `# pragma: allowlist secret` is honoured
for `secrets/*` checks. A suppression without a reason suppresses nothing and is
itself reported.

In PR mode a suppression the change itself adds (its line is new at head) still hides
findings of other checks, but is listed in every report; it never hides a `secrets/*`
finding: a secret must be rotated, or recorded in the merge base's baseline.

Baseline: a JSON file `{"version": 1, "findings": [{"fingerprint", "check", "path",
"reason"}]}`; fingerprints do not contain line numbers, so moving a line neither
hides nor resurrects a finding. An entry marked `"audited": "real"` never hides
its finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from checks.core.findings import Finding, Severity
from checks.runner.registry import matches

_INLINE = re.compile(r"#\s*gitops-checks:\s*ignore\[([^\]]*)\]\s*(.*)$")
_PRAGMA = re.compile(r"pragma:\s*allowlist[ -]secret")


class BaselineError(Exception):
    pass


@dataclass
class Filtered:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    # suppressions this change adds (PR mode): {repo, path, line, checks, reason, hid}
    added: list[dict] = field(default_factory=list)


def _inline_match(text: str) -> re.Match[str] | None:
    return _INLINE.search(text)


def apply_inline(findings: list[Finding], line_of: Callable[[str, str, int], str],
                 added_by_change: Callable[[str, str, str], bool] | None = None,
                 known: Callable[[str], bool] | None = None) -> Filtered:
    """`line_of(repo, path, line)` gives the text of a line of a file; `added_by_change(repo, path,
    text)` (PR mode) whether that line is new in the change under review; `known(selector)` whether
    a check id or family exists (a suppression naming none is reported)."""
    result = Filtered()
    complaints: dict[tuple, Finding] = {}
    added: dict[tuple, dict] = {}
    for f in findings:
        if not (f.repo and f.path and f.line):
            result.kept.append(f)
            continue
        candidates = [(f.line, line_of(f.repo, f.path, f.line))]
        above = line_of(f.repo, f.path, f.line - 1) if f.line > 1 else ""
        if above.lstrip().startswith("#"):
            candidates.append((f.line - 1, above))
        suppressed = False
        for line_no, text in candidates:
            pragma = f.check.startswith("secrets/") and _PRAGMA.search(text) is not None
            m = None if pragma else _inline_match(text)
            if m is not None and known is not None:
                for name in (s.strip() for s in m.group(1).split(",")):
                    if name and not known(name):
                        complaints.setdefault((f.repo, f.path, line_no, name), Finding(
                            "internal/suppression", Severity.WARNING,
                            f"suppression names {name!r}, which is no check or family: it suppresses nothing",
                            repo=f.repo, path=f.path, line=line_no, discriminator=f"unknown:{name}"))
            if m is not None and not any(matches(f.check, s.strip()) for s in m.group(1).split(",") if s.strip()):
                m = None
            if not pragma and m is None:
                continue
            reason = "" if m is None else m.group(2).strip()
            if m is not None and not reason:
                key = (f.repo, f.path, line_no)
                complaints.setdefault(key, Finding(
                    "internal/suppression", Severity.WARNING,
                    "suppression without a reason is ignored: write `# gitops-checks: ignore[ID] why`",
                    repo=f.repo, path=f.path, line=line_no))
                break
            if added_by_change is not None and added_by_change(f.repo, f.path, text):
                entry = added.setdefault((f.repo, f.path, line_no), {
                    "repo": f.repo, "path": f.path, "line": line_no,
                    "checks": "pragma: allowlist secret" if m is None else m.group(1).strip()[:200],
                    "reason": reason[:200], "hid": 0, "refused": 0})
                if f.check.startswith("secrets/"):  # rotate the secret, or record it in the base's baseline
                    entry["refused"] += 1
                    break
                entry["hid"] += 1
            suppressed = True
            break
        (result.suppressed if suppressed else result.kept).append(f)
    result.kept.extend(complaints.values())
    result.added = sorted(added.values(), key=lambda e: (e["repo"], e["path"], e["line"]))
    return result


def load_baseline(path: Path) -> dict[str, dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"baseline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    return parse_baseline(text, str(path))


def parse_baseline(text: str, path: str) -> dict[str, dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a version 1 baseline ({{'version': 1, 'findings': [...]}})")
    entries = {}
    for entry in data["findings"]:
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str):
            entries[entry["fingerprint"]] = entry
    return entries


def apply_baseline(filtered: Filtered, baseline: dict[str, dict]) -> Filtered:
    kept = []
    for f in filtered.kept:
        entry = baseline.get(f.fingerprint)
        if entry is not None and entry.get("audited") != "real" and entry.get("check", f.check) == f.check:
            filtered.baselined.append(f)
        else:
            kept.append(f)
    filtered.kept = kept
    return filtered


def write_baseline(path: Path, findings: list[Finding], reason: str = "accepted when the baseline was made"):
    entries = [
        {"fingerprint": f.fingerprint, "check": f.check, "repo": f.repo, "path": f.path,
         "key_path": f.to_dict().get("key_path"), "reason": reason}
        for f in sorted(findings, key=Finding.sort_key)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "findings": entries}, indent=2) + "\n", encoding="utf-8")
