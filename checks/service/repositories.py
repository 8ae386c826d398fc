"""The two repositories a command works on, and the settings read from them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from checks.core.errors import UsageError
from checks.core.settings import SETTINGS_FILE, ConfigError, Settings
from checks.model.platform import CONFIGS, INFRA
from checks.repo.source import Source, SourceError, git_toplevel, open_source
from checks.runner.configuration import load_settings


def configs_root(given: Path | None) -> Path:
    if given is not None:
        if not given.is_dir():
            raise SourceError(f"--configs {given}: no such directory")
        return given
    top = git_toplevel(Path.cwd())
    return top if top is not None else Path.cwd()


def require_layout(configs: Path, source: Source, given: bool) -> None:
    """A folder with neither customers/ nor products/ is not customer-configs: checking it would pass (or
    fail) on whatever happens to be there."""
    if source.subdirs("customers") or source.subdirs("products"):
        return
    where = f"--configs {configs}" if given else f"the current folder's repository ({configs})"
    raise UsageError(f"{where} has no customers/ and no products/ folder: is it the customer-configs root? "
                     "(give --configs DIR)")


def open_sources(configs: Path, infra: Path | None, rev: str | None,
                 infra_rev: str | None = None) -> dict[str, Source]:
    sources: dict[str, Source] = {CONFIGS: open_source(configs, CONFIGS, rev)}
    if infra is not None:
        if not infra.is_dir():
            raise SourceError(f"--infra {infra}: no such directory")
        sources[INFRA] = open_source(infra, INFRA, infra_rev)
    elif infra_rev is not None:
        raise UsageError("a platform-infrastructure revision needs --infra DIR")
    return sources


def read_settings(config_file: Path | None, configs: Path, source: Source) -> Settings:
    text = None
    if config_file is None and source.entry(SETTINGS_FILE) is not None:
        raw = source.read(SETTINGS_FILE)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{configs / SETTINGS_FILE}: not UTF-8 text") from None
    return load_settings(config_file, configs, settings_text=text)


@contextlib.contextmanager
def repos(configs_arg: Path | None, infra: Path | None, config_file: Path | None,
          rev: str | None, infra_rev: str | None = None,
          settings_file: bool = True) -> Iterator[tuple[Path, dict[str, Source], Settings]]:
    """The configs root, both sources (closed afterwards) and the settings read from them
    (`settings_file=False`: defaults and environment only -- PR mode reads the file at the merge base)."""
    configs = configs_root(configs_arg)
    sources = open_sources(configs, infra, rev, infra_rev)
    try:
        settings = read_settings(config_file, configs, sources[CONFIGS]) if settings_file else load_settings(None,
                                                                                                             configs)
        yield configs, sources, settings
    finally:
        for s in sources.values():
            s.close()
