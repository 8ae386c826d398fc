"""Merge the JSON reports of shards (`--shard K/N`) into one run result."""

from __future__ import annotations

import json
from pathlib import Path

from checks.core.errors import MergeError
from checks.core.findings import Finding, Severity, UnitGroup
from checks.model.unitgroups import merge_unit_groups
from checks.runner.run import RunResult


def _finding(data: dict) -> Finding:
    extra = {k: v for k, v in data.items() if k not in {
        "check", "severity", "message", "repo", "path", "line", "column", "customer", "product", "environment",
        "fingerprint", "key_path", "unit_group"}}
    group = data.get("unit_group")
    # The fingerprint is recomputed from the same fields; keep the original as identity for dedupe.
    return Finding(data["check"], Severity.parse(data["severity"]), data["message"], data.get("repo"),
                   data.get("path"), data.get("line"), data.get("column"), data.get("customer"),
                   data.get("product"), data.get("environment"), discriminator=data.get("fingerprint", ""),
                   extra=extra, group=UnitGroup.from_dict(group) if isinstance(group, dict) else None)


def merge_json_reports(paths: list[Path]) -> RunResult:
    findings: dict[tuple, Finding] = {}
    outside: dict[tuple, Finding] = {}
    notes: set[str] = set()
    pairings: set[str] = set()
    pull_request = False
    examined: dict[str, set[str]] = {}
    subjects: dict[str, str] = {}
    checks: set[str] = set()
    units = files = 0
    duration = 0.0
    shards: set[tuple] = set()
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MergeError(f"{path}: not a readable JSON report ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("version") != 1 or "shard" not in data:
            raise MergeError(f"{path}: not a version 1 JSON report written with --shard")
        shard = tuple(data["shard"])
        if shard in shards:
            raise MergeError(f"{path}: shard {shard[0]}/{shard[1]} given twice")
        shards.add(shard)
        for f in data["findings"]:
            # findings of global checks (ApplicationSets, state keys) are found by every shard: keep one
            findings.setdefault((f["fingerprint"], f.get("line"), f["message"]), _finding(f))
        for f in data.get("outside_change", []):
            outside.setdefault((f["fingerprint"], f.get("line"), f["message"]), _finding(f))
        pull_request |= "outside_change" in data
        notes.add(data["summary"].get("note", ""))
        pairings.add(data.get("pairing", ""))
        for kind, names in data.get("examined", {}).items():
            examined.setdefault(kind, set()).update(names)
        subjects.update(data.get("subjects", {}))
        checks.update(data.get("checks_run", []))
        units += data["summary"]["units"]
        files += data["summary"]["files"]
        duration = max(duration, float(data.get("duration", 0)))
    expected = {s[1] for s in shards}
    if len(expected) != 1 or len(shards) != next(iter(expected)):
        have = ", ".join(f"{k}/{n}" for k, n in sorted(shards))
        raise MergeError(f"incomplete or mixed shards: {have}")
    if "file" in examined:
        files = len(examined["file"])  # shards each parse some shared files; count what was examined
    # a finding about units of several shards ("12 units of 7 customers") is one finding again
    whole = merge_unit_groups(list(findings.values()))
    return RunResult(sorted(whole, key=Finding.sort_key), [], [], sorted(checks), units, files,
                     duration, {k: sorted(v) for k, v in examined.items()}, subjects,
                     outside=sorted(merge_unit_groups(list(outside.values())), key=Finding.sort_key),
                     note=" / ".join(sorted(n for n in notes if n)), pull_request=pull_request,
                     pairing=" / ".join(sorted(p for p in pairings if p)))
