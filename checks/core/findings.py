"""Finding, Severity and fingerprints: the one result type every check yields."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

KeyPath = tuple[str | int, ...]


class Severity(IntEnum):
    NOTICE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or notice)") from None

    def __str__(self) -> str:
        return self.name.lower()


def format_key_path(path: KeyPath) -> str:
    """`a.b[0].c` — the way Helm users write a value path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class UnitGroup:
    """The units a finding names when it is about several (customer, product, environment):
    its message is `before` + their description + `after`. A worker or a shard sees only some
    of them; the runner and merge-reports make one finding of every part's."""

    before: str
    after: str
    style: str  # "text": who they are; "count": how many
    units: tuple[tuple[str, str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "style": self.style, "units": [list(u) for u in self.units]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnitGroup:
        return cls(str(data["before"]), str(data["after"]), str(data["style"]),
                   tuple((str(c), str(p), str(e)) for c, p, e in data["units"]))


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    repo: str | None = None
    path: str | None = None
    line: int | None = None
    column: int | None = None
    customer: str | None = None
    product: str | None = None
    environment: str | None = None
    key_path: KeyPath = ()
    # Extra identity for the fingerprint when one file and key path can carry
    # several findings of one check (e.g. a detector type). Never a secret value.
    discriminator: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Set on findings about a group of units (see UnitGroup); kept in shards' JSON reports only.
    group: UnitGroup | None = field(default=None, compare=False, hash=False)

    @property
    def fingerprint(self) -> str:
        # Keyed by check, file and key path -- not by line, so moving a line
        # neither resurrects nor hides a baselined finding.
        ident = "\x1f".join(
            [
                self.check,
                self.repo or "",
                self.path or "",
                format_key_path(self.key_path),
                self.discriminator,
                "" if self.path else (self.customer or ""),
            ]
        )
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:20]

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)

    def sort_key(self) -> tuple:
        return (
            self.repo or "",
            self.path or "",
            self.line or 0,
            self.column or 0,
            self.check,
            self.message,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check": self.check,
            "severity": str(self.severity),
            "message": self.message,
            "repo": self.repo,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "customer": self.customer,
            "product": self.product,
            "environment": self.environment,
            "fingerprint": self.fingerprint,
        }
        if self.key_path:
            data["key_path"] = format_key_path(self.key_path)
        for key, value in self.extra.items():
            data.setdefault(key, value)
        if self.group is not None:
            data["unit_group"] = self.group.to_dict()
        return data
