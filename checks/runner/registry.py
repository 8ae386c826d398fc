"""The check interface, built-in registration and entry-point plugins.

A check is a small class in the style of yamllint's rules: an `id` (`family/name`),
a default `severity`, its `options` with defaults, a docstring that says what it
checks, why, and shows a passing and a failing example, and one `run()` generator
that yields findings. `python -m checks explain ID` prints that docstring.

Third-party checks register through the entry-point group `gitops_checks.checks`;
each entry point names a `Check` subclass (or a module whose `CHECKS` lists some).
"""

from __future__ import annotations

import builtins
import importlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from checks.core.findings import Finding, KeyPath, Severity

if TYPE_CHECKING:
    from checks.runner.context import Context

FAMILIES = ("yaml", "schema", "consistency", "secrets", "terraform", "policy", "appset", "git", "internal")
ENTRY_POINT_GROUP = "gitops_checks.checks"
BUILTIN_MODULES = (
    "checks.rules.yaml_checks",
    "checks.rules.model_checks",
    "checks.rules.schema_checks",
    "checks.rules.consistency_checks",
    "checks.rules.secret_checks",
    "checks.rules.terraform_checks",
    "checks.rules.policy_checks",
    "checks.rules.appset_checks",
    "checks.rules.application_checks",
    "checks.rules.deployed_checks",
    "checks.rules.git_checks",
)


@dataclass(frozen=True)
class Option:
    """One option of a check: its default, its type and, for a list, the type of its items;
    `choices` when only some values mean something. The settings file is checked against it."""

    default: Any
    type: builtins.type | tuple[builtins.type, ...]
    items: builtins.type | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""

    @classmethod
    def of(cls, value: Any) -> Option:
        """An option given as a bare default (older plugins): its type is the default's."""
        if isinstance(value, Option):
            return value
        if value is None:
            return cls(None, object)
        return cls(value, list if isinstance(value, (list, tuple)) else type(value))

    def problem(self, value: Any) -> str | None:
        """Why `value` cannot be this option's, or None."""
        if value is None and self.default is None:
            return None
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        # YAML's true is not a number, and an int is fine where a float is wanted
        int_for_float = float in types and isinstance(value, int) and not isinstance(value, bool)
        if (isinstance(value, bool) and bool not in types) or (not isinstance(value, types) and not int_for_float):
            return f"expected {_type_names(types)}, got {_type_names((type(value),))}"
        if self.items is not None and isinstance(value, list):
            bad = next((v for v in value if not isinstance(v, self.items)), None)
            if bad is not None:
                return f"expected a list of {_type_names((self.items,))}, got an item {bad!r}"
        if self.choices and value not in self.choices:
            return f"expected one of {', '.join(map(str, self.choices))}, got {value!r}"
        return None


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "a mapping", type(None): "nothing (null)", object: "any value"}


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


@dataclass(frozen=True)
class Partial:
    """Yielded by a check's `run` beside its findings: what one worker knows towards findings that
    need every worker's part (names unique across every Application); picklable."""

    check: str
    data: Any


class Check:
    id: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    enabled_by_default: ClassVar[bool] = True
    options: ClassVar[dict[str, Any]] = {}  # name -> Option (or a bare default)
    # What one JUnit test case is for this check: a unit, a file, a customer, or the whole run.
    subject: ClassVar[str] = "file"
    # Looks at generated Applications (runner/run.py): run first in each worker, over its part of
    # them; what needs all of them at once is a `Partial` the check `conclude`s in the runner.
    whole_platform: ClassVar[bool] = False

    def __init__(self, options: dict[str, Any] | None = None, severity: Severity | None = None) -> None:
        merged = {name: Option.of(opt).default for name, opt in self.options.items()}
        merged.update(options or {})
        self.config = merged
        self.effective_severity = severity or self.severity

    @classmethod
    def option_specs(cls) -> dict[str, Option]:
        return {name: Option.of(opt) for name, opt in cls.options.items()}

    def run(self, ctx: Context) -> Iterator[Finding | Partial]:
        raise NotImplementedError

    def conclude(self, ctx: Context, parts: list[Any]) -> Iterator[Finding]:
        """The findings that need what every worker saw: the data of the `Partial`s `run` yielded,
        in every worker (a run in one process: its own), in no particular order."""
        return iter(())

    def finding(self, message: str, *, severity: Severity | None = None, key_path: KeyPath = (),
                **where: Any) -> Finding:
        return Finding(self.id, severity or self.effective_severity, message, key_path=key_path, **where)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "(undocumented)")

    @classmethod
    def summary(cls) -> str:
        return " ".join(cls.doc().split("\n\n", 1)[0].split())


_REGISTRY: dict[str, type[Check]] = {}


class RegistryError(Exception):
    pass


def register(cls: type[Check]) -> type[Check]:
    family = cls.id.split("/", 1)[0]
    if "/" not in cls.id or family not in FAMILIES:
        raise RegistryError(f"check id {cls.id!r} must be family/name with a family of {', '.join(FAMILIES)}")
    existing = _REGISTRY.get(cls.id)
    if existing is not None and existing is not cls:
        raise RegistryError(f"check id {cls.id!r} is registered twice ({existing.__module__}, {cls.__module__})")
    _REGISTRY[cls.id] = cls
    return cls


_loaded = False


def all_checks() -> dict[str, type[Check]]:
    global _loaded
    if not _loaded:
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            if inspect.isclass(obj) and issubclass(obj, Check):
                register(obj)
            else:
                for cls in getattr(obj, "CHECKS", ()):
                    register(cls)
        _loaded = True
    return dict(sorted(_REGISTRY.items()))


def matches(check_id: str, selector: str) -> bool:
    """A selector is a check id or a family (`yaml`, `yaml/`, `yaml/*`)."""
    selector = selector.rstrip("*").rstrip("/")
    return check_id == selector or check_id.split("/", 1)[0] == selector


def select_checks(enable: tuple[str, ...] | list[str], disable: tuple[str, ...] | list[str],
                  only: list[str], skip: list[str]) -> list[type[Check]]:
    """Settings enable/disable, then the command line's --check/--skip (which win)."""
    known = all_checks()
    for selector in [*enable, *disable, *only, *skip]:
        if not any(matches(cid, selector) for cid in known):
            raise RegistryError(f"no check or family named {selector!r} (see `python -m checks list`)")
    chosen = []
    for cid, cls in known.items():
        on = cls.enabled_by_default
        if enable and any(matches(cid, s) for s in enable):
            on = True
        if any(matches(cid, s) for s in disable):
            on = False
        if only:
            on = any(matches(cid, s) for s in only)
        if any(matches(cid, s) for s in skip):
            on = False
        if on:
            chosen.append(cls)
    return chosen
