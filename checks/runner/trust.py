"""PR mode's trust model: the change under review never weakens the check that reviews it.

The gate's own configuration -- the settings file, the policy folders, the baseline -- is
read from customer-configs at the merge base (what the target branch has approved). What
the pull request changes in them is reported as a `git/gate-change` finding that names
what the change would weaken, and takes effect once merged. Inline suppressions the pull
request adds are listed, and cannot hide a `secrets/*` finding.

Full runs and local runs (no `--base`) read everything from the checkout, as before.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.core.settings import SETTINGS_FILE, ConfigError, Limits, Settings
from checks.core.text import printable
from checks.repo.documents import parse_yaml_text
from checks.repo.source import Change, Source, SourceError, git_toplevel, merge_base, open_source
from checks.runner.configuration import load_settings, parse_settings_text

_SEVERITY_ORDER = {"notice": 1, "warning": 2, "error": 3}
_KNOWN = ("checks", "fail_on", "limits", "exclude", "baseline", "policies")


@dataclass(frozen=True)
class GateChange:
    path: str  # the file of customer-configs the change is in
    message: str
    line: int | None = None
    severity: str = "warning"  # "error": the change breaks the gate once merged


@dataclass
class Trust:
    """What PR mode trusts, read at the merge base; built by `open_trust`."""

    base: Source  # customer-configs at the merge base
    settings_path: str | None  # the settings file, relative to the configs root (None: outside the repo)
    changes: list[GateChange] = field(default_factory=list)
    _base_lines: dict[str, Counter[str]] = field(default_factory=dict)

    def read_base_text(self, path: str) -> str | None:
        entry = self.base.entry(path)
        if entry is None or entry.is_symlink:
            return None
        try:
            return self.base.read(path).decode("utf-8")
        except (SourceError, UnicodeDecodeError):
            return None

    def added_by_change(self, path: str, line_text: str) -> bool:
        """Whether a line (a suppression comment) is new in this change: its text occurs more
        often at head than in the file at the merge base (moving a line is not adding one)."""
        if path not in self._base_lines:
            text = self.read_base_text(path) or ""
            self._base_lines[path] = Counter(line.strip() for line in text.splitlines())
        return self._base_lines[path][line_text.strip()] < 1


def relative_to_configs(path: Path, configs: Path) -> str | None:
    """`path` as a path of the configs repository, or None when it lies outside it (CI's own file)."""
    try:
        rel = path.resolve().relative_to(configs.resolve()).as_posix()
    except ValueError:
        return None
    return rel if rel != "." else None


def base_settings_text(trust: Trust, head: Source) -> tuple[str | None, str | None]:
    """(settings text at the merge base, at head) of the settings file inside the repository."""
    if trust.settings_path is None:
        return None, None
    head_text = None
    entry = head.entry(trust.settings_path)
    if entry is not None and not entry.is_symlink:
        try:
            head_text = head.read(trust.settings_path).decode("utf-8", "replace")
        except SourceError:
            head_text = None
    return trust.read_base_text(trust.settings_path), head_text


def settings_changes(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """(key path in the settings file, what it would weaken) for every difference, the
    dangerous ones named precisely, anything else as a change of what is checked."""
    out: list[tuple[tuple[str, ...], str]] = []
    b_checks, h_checks = base.get("checks", {}) or {}, head.get("checks", {}) or {}
    for name in sorted(set(h_checks.get("disable", [])) - set(b_checks.get("disable", []))):
        out.append((("checks", "disable"), f"checks.disable adds {name}: would switch off {name}"))
    if b_checks.get("enable") != h_checks.get("enable"):
        out.append((("checks", "enable"), f"checks.enable changes to {h_checks.get('enable', 'the default')}: "
                                          "would change which checks run"))
    b_sev, h_sev = b_checks.get("severity", {}) or {}, h_checks.get("severity", {}) or {}
    for check in sorted(set(b_sev) | set(h_sev)):
        if b_sev.get(check) != h_sev.get(check):
            out.append((("checks", "severity", check), f"checks.severity.{check}: {b_sev.get(check, 'default')} -> "
                        f"{h_sev.get(check, 'default')}: would change how its findings count"))
    if b_checks.get("options") != h_checks.get("options"):
        for check in sorted(set(b_checks.get("options", {}) or {}) | set(h_checks.get("options", {}) or {})):
            if (b_checks.get("options") or {}).get(check) != (h_checks.get("options") or {}).get(check):
                out.append((("checks", "options", check), f"checks.options.{check} changes: would change what "
                                                         f"{check} accepts"))
    b_fail, h_fail = base.get("fail_on", "error"), head.get("fail_on", "error")
    if _SEVERITY_ORDER.get(h_fail, 3) > _SEVERITY_ORDER.get(b_fail, 3):
        out.append((("fail_on",), f"fail_on {b_fail} -> {h_fail}: would pass findings that fail today"))
    b_lim, h_lim = base.get("limits", {}) or {}, head.get("limits", {}) or {}
    for key in sorted(set(b_lim) | set(h_lim)):
        if b_lim.get(key) != h_lim.get(key):
            out.append((("limits", key), f"limits.{key} {b_lim.get(key, 'default')} -> {h_lim.get(key, 'default')}:"
                                         " would change how much input is accepted"))
    for pattern in sorted(set(head.get("exclude", []) or []) - set(base.get("exclude", []) or [])):
        out.append((("exclude",), f"exclude adds {pattern!r}: would stop checking the files it matches"))
    if base.get("baseline") != head.get("baseline"):
        out.append((("baseline",), f"baseline {base.get('baseline')!r} -> {head.get('baseline')!r}: would hide the "
                                   "findings another file records"))
    b_pol, h_pol = base.get("policies", {}) or {}, head.get("policies", {}) or {}
    for key in ("paths", "builtin", "engine"):
        if b_pol.get(key) != h_pol.get(key):
            out.append((("policies", key), f"policies.{key} {b_pol.get(key, 'default')!r} -> "
                                           f"{h_pol.get(key, 'default')!r}: would change which policies run"))
    for key in sorted((set(base) | set(head)) - set(_KNOWN)):
        if base.get(key) != head.get(key):
            out.append(((key,), f"{key} changes: would change what is checked"))
    return out


def _line_of(text: str | None, key_path: tuple[str, ...]) -> int | None:
    if not text:
        return None
    docs, _ = parse_yaml_text(text, Limits())
    if not docs:
        return None
    for depth in range(len(key_path), 0, -1):
        found = docs[0].locate(key_path[:depth])
        if found:
            return found[0]
    return None


def gate_changes(trust: Trust, head: Source, changes: list[Change], base_data: dict[str, Any],
                 policy_paths: tuple[str, ...]) -> list[GateChange]:
    """What this change does to the gate itself: its settings, policies and baseline."""
    out: list[GateChange] = []
    base_text, head_text = base_settings_text(trust, head)
    where = trust.settings_path or SETTINGS_FILE
    if trust.settings_path is not None and base_text != head_text:
        try:
            head_data = parse_settings_text(head_text, where) if head_text is not None else {}
        except ConfigError as exc:
            out.append(GateChange(where, f"the settings file at head is not valid ({printable(str(exc))}): every "
                                         "run would stop once merged; the merge base's settings are used", None,
                                  "error"))
            head_data = None
        if head_data is not None:
            for key_path, message in settings_changes(base_data, head_data):
                out.append(GateChange(where, message + "; applies once merged", _line_of(head_text, key_path)))
    policy_prefixes = tuple(p.strip("/") + "/" for p in policy_paths)
    baseline = base_data.get("baseline")
    baseline_path = posixpath.normpath(baseline) if isinstance(baseline, str) else None
    for change in changes:
        for path in (change.path, change.old_path):
            if path is None:
                continue
            if path.endswith(".rego") and path.startswith(policy_prefixes):
                out.append(GateChange(path, f"policy file {'deleted' if change.status == 'D' else 'changed'} by "
                                            "this change: the merge base's policies are used; applies once merged"))
            elif baseline_path is not None and path == baseline_path:
                out.append(GateChange(path, "the baseline changes: the merge base's baseline is used, so no "
                                            "finding of this change is hidden by it; applies once merged"))
    return sorted(set(out), key=lambda g: (g.path, g.line or 0, g.message))


def open_trust(configs: Path, head: Source, base_rev: str, head_rev: str | None, config_file: Path | None,
               changes: list[Change]) -> tuple[Trust, Settings]:
    """customer-configs at the merge base of base_rev and head, the settings read there (a
    `--config` file outside the repository is CI's own and read as it is), and the gate changes."""
    top = git_toplevel(configs)
    if top is None:
        raise SourceError(f"{configs} is not a git repository (needed for --base)")
    base = open_source(configs, head.name, merge_base(top.resolve(), base_rev, head_rev))
    settings_path = SETTINGS_FILE if config_file is None else relative_to_configs(config_file, configs)
    trust = Trust(base, settings_path)
    try:
        if settings_path is None:
            settings = load_settings(config_file, configs)
            base_data: dict[str, Any] = {}
        else:
            text = trust.read_base_text(settings_path)
            origin = f"{settings_path} at the merge base {base.revision[:12] if base.revision else ''}"
            base_data = parse_settings_text(text, origin) if text is not None else {}
            settings = load_settings(None, configs, settings_text=text)
            if text is not None:
                settings.source = origin
    except BaseException:
        base.close()
        raise
    trust.changes = gate_changes(trust, head, changes, base_data, settings.policy_paths)
    return trust, settings
