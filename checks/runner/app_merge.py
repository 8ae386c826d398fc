"""Findings that name generated Applications ("3 applications: acme-billing, ...") put together
from what each forked worker says about its part of them.

A check writes `apps_text(apps)` where it names Applications; that is a marker holding the count
and the first few names in their `order` (engines/app_generation.py), the same in every worker.
`render` merges findings that differ only in their markers (one per worker, about the same
problem) and writes the text: the count over every worker, the first names over every worker.
Applications every worker generates (of no customer) are counted once, by their order. A run in
one process goes through the same steps, so its findings are those of any number of workers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from checks.core.findings import Finding
from checks.engines.app_generation import UNTIED
from checks.engines.appsets import GeneratedApp, shown_name

SHOWN = 4  # names shown before "and N more"
_MARK = "\x00apps:"
_MARKER = re.compile("\x00apps:([^\x00]*)\x00")
_SLOT = "\x00apps\x00"  # where a marker was, in the merged finding's message


def apps_text(apps: Iterable[GeneratedApp], example: Callable[[GeneratedApp], str] | None = None) -> str:
    """A marker for "N applications: a, b, c, d and N-4 more" (with " (e.g. ...)" of the first
    when `example` is given), written by `render`."""
    entries = sorted((list(a.order), shown_name(a.name), example(a) if example else "") for a in apps)
    shared = [e for e in entries if len(e[0]) > 1 and e[0][1] == UNTIED]
    own = [e for e in entries if not (len(e[0]) > 1 and e[0][1] == UNTIED)]
    payload = {"n": len(own), "first": own[:SHOWN], "shared": shared, "eg": example is not None}
    return _MARK + json.dumps(payload, separators=(",", ":")) + "\x00"


def render(findings: list[Finding]) -> list[Finding]:
    """Every finding with its markers written, those equal but for their markers merged into one."""
    out: list[Finding] = []
    merged: dict[Finding, list[list[dict[str, Any]]]] = {}
    for finding in findings:
        if _MARK not in finding.message:
            out.append(finding)
            continue
        payloads = [json.loads(m) for m in _MARKER.findall(finding.message)]
        key = replace(finding, message=_MARKER.sub(_SLOT, finding.message))
        if key in merged:
            for mine, more in zip(merged[key], payloads, strict=True):
                mine.append(more)
        else:
            merged[key] = [[p] for p in payloads]
    for key, markers in merged.items():
        pieces = key.message.split(_SLOT)
        texts = [_text(parts) for parts in markers]
        out.append(replace(key, message="".join(p + t for p, t in zip(pieces, [*texts, ""], strict=True))))
    return out


def _text(parts: list[dict[str, Any]]) -> str:
    shared = {json.dumps(e[0]): e for p in parts for e in p["shared"]}  # every worker's: counted once
    entries = sorted([*shared.values(), *(e for p in parts for e in p["first"])])
    count = sum(p["n"] for p in parts) + len(shared)
    names = [e[1] for e in entries[:SHOWN]]
    text = f"{count} application{'s' if count != 1 else ''}: {', '.join(names)}" + (
        f" and {count - SHOWN} more" if count > SHOWN else "")
    if parts[0]["eg"] and entries:
        text += f" (e.g. {entries[0][2]})"
    return text
