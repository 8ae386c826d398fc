"""Settings: defaults < settings file < environment variables < command-line options.

The settings file is `.gitops-checks.yaml` at the customer-configs root, or the
file given with `--config`; runner/configuration.py reads and validates it (an
unreadable or invalid settings file stops the run with exit 2).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.core.findings import Severity

SETTINGS_FILE = ".gitops-checks.yaml"
POLICY_ENGINES = ("auto", "conftest", "regorus")  # auto: conftest when on PATH, else regorus

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "helm": {"enum": ["3", "4", 3, 4]},
        "environments": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            "minItems": 1,
            "uniqueItems": True,
        },
        "fail_on": {"enum": ["error", "warning", "notice"]},
        "checks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enable": {"type": "array", "items": {"type": "string"}},
                "disable": {"type": "array", "items": {"type": "string"}},
                "severity": {
                    "type": "object",
                    "additionalProperties": {"enum": ["error", "warning", "notice"]},
                },
                "options": {"type": "object", "additionalProperties": {"type": "object"}},
            },
        },
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_file_bytes": {"type": "integer", "minimum": 1},
                "max_yaml_nodes": {"type": "integer", "minimum": 1},
                "max_yaml_depth": {"type": "integer", "minimum": 2, "maximum": 1000},
            },
        },
        "baseline": {"type": "string"},
        "schemas": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"metadata": {"type": "object"}, "products": {"type": "object"}},
        },
        "exclude": {"type": "array", "items": {"type": "string"}},
        "appsets": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "new_git_file_globbing": {"type": "boolean"},
                # the branch the tree checked stands for: `$values` refs naming another are read from git
                "branch": {"type": "string", "minLength": 1},
                "repos": {"type": "object", "additionalProperties": {"enum": ["customer-configs",
                                                                               "platform-infrastructure"]}},
            },
        },
        "diff": {
            "type": "object",
            "additionalProperties": False,
            # key paths (globs) meant to differ between environments: the promotion view shows them apart
            "properties": {"ignore": {"type": "array", "items": {"type": "string", "minLength": 1}}},
        },
        "policies": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "paths": {"type": "array", "items": {"type": "string"}},
                "builtin": {"type": "boolean"},
                "engine": {"enum": list(POLICY_ENGINES)},
                # per product: where its chart keeps its workloads (dotted key paths), for the starter policies
                "workloads": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string", "minLength": 1}}},
            },
        },
    },
}

# Every environment variable the suite reads, and what it does. Only this module reads them
# (tests/test_architecture.py keeps it so); the README's table lists the same names.
ENVIRONMENT: dict[str, str] = {
    "GITOPS_CHECKS_HELM": "helm (3 or 4)",
    "GITOPS_CHECKS_ENVIRONMENTS": "environments (comma-separated)",
    "GITOPS_CHECKS_FAIL_ON": "fail_on",
    "GITOPS_CHECKS_SKIP": "checks.disable (comma-separated, added)",
    "GITOPS_CHECKS_MAX_FILE_BYTES": "limits.max_file_bytes",
    "GITOPS_CHECKS_BASELINE": "baseline",
    "GITOPS_CHECKS_POLICY_ENGINE": "policies.engine",
    "GITOPS_CHECKS_CONFTEST": "the conftest binary to use (default: conftest on PATH)",
    "GITOPS_CHECKS_CACHE_DIR": "--cache-dir",
    "GITOPS_CHECKS_WORKERS": "1: one process; N: N forked workers; unset: by the size of the run",
    "GITOPS_CHECKS_PROGRESS_DELAY": "seconds before the progress bar appears (default 1)",
    "GITOPS_CHECKS_BITBUCKET_TIMEOUT": "seconds per Bitbucket request (default 10)",
    "GITOPS_CHECKS_BITBUCKET_BUDGET": "seconds for every Bitbucket call of a run together",
    "GITOPS_CHECKS_DEBUG": "an internal error raises with its traceback",
    "GITOPS_CHECKS_POLICY_CPU_SECONDS": "CPU seconds a sandboxed policy evaluation may use (default 120)",
    "GITOPS_CHECKS_POLICY_MEMORY_MB": "memory a sandboxed policy evaluation may use, in MB (default 2048)",
}


def env(name: str, environ: Mapping[str, str] | None = None) -> str:
    """One of ENVIRONMENT's variables ("" when unset)."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not a variable of gitops-checks (add it to ENVIRONMENT)")
    return (os.environ if environ is None else environ).get(name, "")


def conftest_binary() -> str | None:
    return env("GITOPS_CHECKS_CONFTEST") or shutil.which("conftest")


def workers_setting() -> int | None:
    """GITOPS_CHECKS_WORKERS as a number, or None when unset (or not a number)."""
    value = env("GITOPS_CHECKS_WORKERS")
    return int(value) if value.isdigit() else None


def cache_dir() -> Path | None:
    value = env("GITOPS_CHECKS_CACHE_DIR")
    return Path(value) if value else None


def progress_delay() -> float:
    return float(env("GITOPS_CHECKS_PROGRESS_DELAY") or "1")


def bitbucket_timeout() -> float:
    return float(env("GITOPS_CHECKS_BITBUCKET_TIMEOUT") or "10")


def bitbucket_budget(default: float) -> float:
    return float(env("GITOPS_CHECKS_BITBUCKET_BUDGET") or default)


def debug() -> bool:
    return bool(env("GITOPS_CHECKS_DEBUG"))


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may cost to read (untrusted input)."""

    max_file_bytes: int = 5 * 1024 * 1024
    max_nodes: int = 250_000  # after alias expansion; a large chart's values.yaml has ~10k
    max_depth: int = 100


class ConfigError(Exception):
    """The settings cannot be used (exit 2)."""


@dataclass
class Settings:
    helm_major: int = 4
    environments: tuple[str, ...] = ("dev", "staging", "prod")
    fail_on: Severity = Severity.ERROR
    enable: tuple[str, ...] = ()  # empty: every check that is on by default
    disable: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    baseline: str | None = None
    exclude: tuple[str, ...] = ()
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)  # additions to built-in schemas
    policy_paths: tuple[str, ...] = ()  # team policy folders, relative to the configs root
    policy_builtin: bool = True
    policy_engine: str = "auto"
    policy_workloads: dict[str, tuple[str, ...]] = field(default_factory=dict)  # product -> dotted key paths
    appset_new_globbing: bool = False  # ArgoCD's --enable-new-git-file-globbing
    appset_repos: dict[str, str] = field(default_factory=dict)  # repoURL -> which repository it is
    appset_branch: str = "main"  # the branch the tree checked stands for (multi-source `$values` refs)
    diff_ignore: tuple[str, ...] = ()  # key-path globs the promotion view shows apart (meant to differ)
    source: str | None = None  # where the settings file was read from

    def check_options(self, check_id: str) -> dict[str, Any]:
        return self.options.get(check_id, {})


def apply_file_data(settings: Settings, data: dict[str, Any]) -> None:
    if "helm" in data:
        settings.helm_major = int(data["helm"])
    if "environments" in data:
        settings.environments = tuple(data["environments"])
    if "fail_on" in data:
        settings.fail_on = Severity.parse(data["fail_on"])
    checks = data.get("checks", {})
    settings.enable = tuple(checks.get("enable", settings.enable))
    settings.disable = tuple(checks.get("disable", settings.disable))
    for check_id, sev in checks.get("severity", {}).items():
        settings.severity[check_id] = Severity.parse(sev)
    settings.options.update(checks.get("options", {}))
    limits = data.get("limits", {})
    if limits:
        settings.limits = Limits(
            max_file_bytes=limits.get("max_file_bytes", settings.limits.max_file_bytes),
            max_nodes=limits.get("max_yaml_nodes", settings.limits.max_nodes),
            max_depth=limits.get("max_yaml_depth", settings.limits.max_depth),
        )
    if "baseline" in data:
        settings.baseline = data["baseline"]
    if "exclude" in data:
        settings.exclude = tuple(data["exclude"])
    settings.schemas.update(data.get("schemas", {}))
    appsets = data.get("appsets", {})
    settings.appset_new_globbing = appsets.get("new_git_file_globbing", settings.appset_new_globbing)
    settings.appset_repos.update(appsets.get("repos", {}))
    settings.appset_branch = appsets.get("branch", settings.appset_branch)
    settings.diff_ignore = tuple(data.get("diff", {}).get("ignore", settings.diff_ignore))
    policies = data.get("policies", {})
    settings.policy_paths = tuple(policies.get("paths", settings.policy_paths))
    settings.policy_builtin = policies.get("builtin", settings.policy_builtin)
    settings.policy_engine = policies.get("engine", settings.policy_engine)
    settings.policy_workloads = {p: tuple(paths) for p, paths in policies.get("workloads", {}).items()}


def apply_environment(settings: Settings, env: Mapping[str, str]) -> None:
    """Environment variables override the settings file (and are overridden by options)."""
    try:
        if env.get("GITOPS_CHECKS_HELM"):
            if env["GITOPS_CHECKS_HELM"] not in ("3", "4"):
                raise ValueError("GITOPS_CHECKS_HELM must be 3 or 4")
            settings.helm_major = int(env["GITOPS_CHECKS_HELM"])
        if env.get("GITOPS_CHECKS_ENVIRONMENTS"):
            settings.environments = tuple(e.strip() for e in env["GITOPS_CHECKS_ENVIRONMENTS"].split(",") if e.strip())
        if env.get("GITOPS_CHECKS_FAIL_ON"):
            settings.fail_on = Severity.parse(env["GITOPS_CHECKS_FAIL_ON"])
        if env.get("GITOPS_CHECKS_SKIP"):
            extra = tuple(s.strip() for s in env["GITOPS_CHECKS_SKIP"].split(",") if s.strip())
            settings.disable = settings.disable + extra
        if env.get("GITOPS_CHECKS_MAX_FILE_BYTES"):
            size = int(env["GITOPS_CHECKS_MAX_FILE_BYTES"])
            settings.limits = Limits(size, settings.limits.max_nodes, settings.limits.max_depth)
        if env.get("GITOPS_CHECKS_POLICY_ENGINE"):
            if env["GITOPS_CHECKS_POLICY_ENGINE"] not in POLICY_ENGINES:
                raise ValueError(f"GITOPS_CHECKS_POLICY_ENGINE must be one of {', '.join(POLICY_ENGINES)}")
            settings.policy_engine = env["GITOPS_CHECKS_POLICY_ENGINE"]
        if env.get("GITOPS_CHECKS_BRANCH"):
            settings.appset_branch = env["GITOPS_CHECKS_BRANCH"].strip()
        if env.get("GITOPS_CHECKS_BASELINE"):
            settings.baseline = env["GITOPS_CHECKS_BASELINE"]
    except ValueError as exc:
        raise ConfigError(f"environment: {exc}") from None
