"""Reading the settings file: YAML with the line of every key, validated against
`SETTINGS_SCHEMA`; an unreadable or invalid file stops the run with exit 2 at its line.
Environment variables are applied after the file (core.settings owns them)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from checks.core.settings import (
    SETTINGS_FILE,
    SETTINGS_SCHEMA,
    ConfigError,
    Limits,
    Settings,
    apply_environment,
    apply_file_data,
)
from checks.repo.documents import decode_text, parse_yaml_text


def parse_settings_text(text: str, origin: str) -> dict[str, Any]:
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
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        line = docs[0].locate(tuple(err.absolute_path))
        raise ConfigError(f"{origin}:{line[0] if line else 1}: invalid setting {where}: {err.message}")
    return data


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
