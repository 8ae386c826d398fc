"""Reading the settings file: YAML with the line of every key, validated against
`SETTINGS_SCHEMA`; an unreadable or invalid file stops the run with exit 2 at its line.
Environment variables are applied after the file (core.settings owns them)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, NoReturn

from checks.core.settings import (
    SETTINGS_FILE,
    SETTINGS_SCHEMA,
    ConfigError,
    Limits,
    Settings,
    apply_environment,
    apply_file_data,
)
from checks.repo.documents import YamlDocument, decode_text, parse_yaml_text
from checks.runner.registry import Check, all_checks, matches


def parse_settings_text(text: str, origin: str, known: dict[str, type[Check]] | None = None) -> dict[str, Any]:
    """The settings file's data, valid against SETTINGS_SCHEMA and, for its `checks:` section,
    against the registered checks (`known`, default: every check); else ConfigError at the line."""
    docs, problems = parse_yaml_text(text, Limits())
    bad = [p for p in problems if p.fatal or p.check == "yaml/duplicate-key"]
    if bad:
        p = bad[0]
        raise ConfigError(f"{origin}:{p.line or 1}: {p.message}")
    data = docs[0].value if docs else None
    if data is None:
        return {}
    import jsonschema  # here, not at the top: `--version` and `list` never read settings

    errors = sorted(jsonschema.Draft202012Validator(SETTINGS_SCHEMA).iter_errors(data), key=lambda e: e.path)
    if errors:
        err = errors[0]
        path: tuple[str | int, ...] = tuple(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = list(err.schema.get("properties", {}))
            extra = sorted(str(k) for k in err.instance if k not in allowed)
            if extra:
                path = (*path, extra[0])
                message = f"unknown setting{_did_you_mean(extra[0], allowed)}"
        where = ".".join(str(p) for p in path) or "(top level)"
        raise ConfigError(f"{origin}:{_line(docs[0], path)}: invalid setting {where}: {message}")
    if isinstance(data, dict) and data.get("checks"):
        _check_against_registry(data["checks"], docs[0], origin, all_checks() if known is None else known)
    return data


# Findings the runner itself makes; their severity may be set like a check's.
RUNNER_FINDINGS = ("internal/crash", "internal/empty-scope", "internal/suppression")


def _check_against_registry(section: dict[str, Any], doc: YamlDocument, origin: str,
                            known: dict[str, type[Check]]) -> None:
    """Every check named in `checks:` exists, and every option is one it has, of its type."""
    def fail(path: tuple[str | int, ...], message: str) -> NoReturn:
        raise ConfigError(f"{origin}:{_line(doc, ('checks', *path))}: checks.{'.'.join(map(str, path))}: {message}")

    for name in ("enable", "disable"):
        for index, selector in enumerate(section.get(name, [])):
            if not any(matches(cid, selector) for cid in known):
                fail((name, index), f"no check or family named {selector!r}{_did_you_mean(selector, list(known))}")
    for check_id in section.get("severity", {}):
        if check_id not in known and check_id not in RUNNER_FINDINGS:
            fail(("severity", check_id), f"no check named {check_id!r}{_did_you_mean(check_id, list(known))}")
    for check_id, given in section.get("options", {}).items():
        cls = known.get(check_id)
        if cls is None:
            fail(("options", check_id), f"options for a check that does not exist"
                                        f"{_did_you_mean(check_id, list(known))}")
        specs = cls.option_specs()
        for option, value in given.items():
            spec = specs.get(option)
            if spec is None:
                have = f" (its options: {', '.join(specs)})" if specs else " (it has no options)"
                fail(("options", check_id, option),
                     f"{check_id} has no option {option!r}{_did_you_mean(option, list(specs)) or have}")
            problem = spec.problem(value)
            if problem is not None:
                fail(("options", check_id, option), problem)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line(doc: YamlDocument, path: tuple[str | int, ...]) -> int:
    pos = doc.locate(path)
    return pos[0] if pos else 1


def load_settings(
    config_file: Path | None,
    configs_root: Path | None,
    environ: dict[str, str] | None = None,
    settings_text: str | None = None,
) -> Settings:
    """Build the settings; `settings_text` is the default file as read from the configs source."""
    settings = Settings()
    if config_file is not None:
        try:
            raw = config_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {config_file}: {exc.strerror or exc}") from None
        text, problem = decode_text(raw)
        if text is None:
            raise ConfigError(f"{config_file}: {problem.message if problem else 'unreadable'}")
        apply_file_data(settings, parse_settings_text(text, str(config_file)))
        settings.source = str(config_file)
    elif settings_text is not None:
        origin = f"{configs_root}/{SETTINGS_FILE}" if configs_root else SETTINGS_FILE
        apply_file_data(settings, parse_settings_text(settings_text, origin))
        settings.source = origin
    apply_environment(settings, os.environ if environ is None else environ)
    return settings
