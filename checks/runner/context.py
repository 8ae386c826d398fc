"""The context every check runs in: the settings, both repositories, the scope and the
services computed once per run and shared by every check."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from checks.core import progress
from checks.core.settings import Settings
from checks.model.platform import CONFIGS, INFRA, Model, Unit
from checks.model.values import EffectiveValues, LayerError, effective_values
from checks.repo.documents import DocumentStore, is_yaml_path
from checks.repo.source import Source
from checks.scope.selection import Scope, full_scope

if TYPE_CHECKING:
    from checks.runner.trust import Trust


@dataclass
class Context:
    settings: Settings
    sources: dict[str, Source]
    store: DocumentStore
    scope: Scope = field(default_factory=full_scope)
    # Compiled artefacts shared by checks within one run (schemas, policies, parsed HCL).
    cache: dict[object, object] = field(default_factory=dict)
    configs_root: Path | None = None  # set in PR mode, for checks that read history
    # PR mode: the gate's configuration at the merge base, and what the change does to it
    trust: Trust | None = None
    _model: Model | None = None
    _values: dict[Unit, tuple[EffectiveValues | None, list[LayerError]]] = field(default_factory=dict)

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = Model(self.store, self.settings.environments)
        return self._model

    def close_readers(self) -> None:
        """Before forking: git cat-file pipes must not be shared; each process opens its own."""
        for source in self.sources.values():
            source.close()

    @property
    def policy_source(self) -> Source:
        """Where repository policies are read: the merge base in PR mode (a change cannot rewrite
        the policies that review it), else customer-configs as checked."""
        return self.trust.base if self.trust is not None else self.sources[CONFIGS]

    def use_model(self, model: Model) -> None:
        self._model = model

    @property
    def has_infra(self) -> bool:
        return INFRA in self.sources

    def chart_products(self) -> set[str]:
        """Products with a chart (`products/{p}/Chart.yaml`) in platform-infrastructure."""
        if INFRA not in self.sources:
            return set()
        infra = self.sources[INFRA]
        return {name for name in infra.subdirs("products") if infra.entry(f"products/{name}/Chart.yaml") is not None}

    def units(self) -> list[Unit]:
        return list(self._per_scope("units", lambda: [u for u in self.model.units() if self.scope.includes_unit(u)],
                                    self.model))

    def _per_scope(self, name: str, compute: Callable[[], list], model: Model | None = None) -> list:
        """Computed once per scope, shard and (for what depends on it) model; the entry keeps them
        alive, so their ids in the key cannot be reused by later objects. Listings do not build the
        model: it reads files, which is cheaper once the tree is listed."""
        key = (name, id(self.scope), self.scope.shard, self.scope.part, id(model))
        entry = self.cache.get(key)
        if entry is None:
            entry = (self.scope, model, compute())
            self.cache[key] = entry
        return entry[2]  # type: ignore[index]

    def values(self, unit: Unit) -> tuple[EffectiveValues | None, list[LayerError]]:
        if unit not in self._values:
            memo = self.cache.setdefault(("stage1-memo",), {})
            self._values[unit] = effective_values(self.store, unit, self.settings.helm_major, self.has_infra,
                                                  memo)  # type: ignore[arg-type]
            progress.tick(progress.UNITS)
        return self._values[unit]

    def excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.settings.exclude)

    def files_in_scope(self, repo: str) -> list[str]:
        """Every file of a repo this run looks at (by scope; the infra repo whole outside PR mode), sorted."""
        def compute() -> list[str]:
            source = self.sources.get(repo)
            if source is None:
                return []
            if self.scope.note:
                # nothing to check (documentation, or no change): the changed files only, without
                # listing the whole tree
                return sorted(p for p in self.scope.files.get(repo, ()) if source.entry(p) is not None
                              and not self.excluded(p))
            paths = sorted(p for p in source.files() if not self.excluded(p))
            if repo == INFRA:
                return [p for p in paths if self.scope.includes_infra_file(p)]
            return [p for p in paths if self.scope.includes_file(repo, p)]
        return self._per_scope(f"files:{repo}", compute)

    def yaml_files(self) -> list[tuple[str, str]]:
        """Every YAML file in scope, in both repos; Helm templates are Go templates, not YAML."""
        return self._per_scope("yaml-files", lambda: [
            (repo, path) for repo in self.sources for path in self.files_in_scope(repo)
            if is_yaml_path(path) and not (repo == INFRA and "templates" in path.split("/")[:-1])])

    def terraform_files(self) -> list[str]:
        """The `.tf` files of customer-configs in scope (the Terraform checks do not apply `exclude`)."""
        if self.scope.note:
            return [p for p in self.files_in_scope(CONFIGS) if p.endswith(".tf")]
        return self._per_scope("terraform-files", lambda: sorted(
            p for p in self.sources[CONFIGS].files() if p.endswith(".tf") and self.scope.includes_file(CONFIGS, p)))
