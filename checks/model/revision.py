"""The platform at one revision: both repositories' documents, the model read from them, and
the effective values of each unit, computed once and shared by every reader (the checks, the
diffs between two revisions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checks.core import progress
from checks.core.settings import Settings
from checks.model.platform import INFRA, Model, Unit
from checks.model.values import EffectiveValues, LayerError, effective_values
from checks.repo.documents import DocumentStore
from checks.repo.source import Source

UnitValues = tuple[EffectiveValues | None, list[LayerError]]


class Revision:
    def __init__(self, settings: Settings, sources: Mapping[str, Source], store: DocumentStore,
                 model: Model | None = None) -> None:
        self.settings = settings
        self.sources = sources
        self.store = store
        self._model = model
        self._values: dict[Unit, UnitValues] = {}
        # the merge of the product-level layers, shared by the units of one product and environment
        self._layer_memo: dict[Any, Any] = {}

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = Model(self.store, self.settings.environments)
        return self._model

    @property
    def model_built(self) -> bool:
        """Whether a model was given or read already (PR mode: the changed customers' only)."""
        return self._model is not None

    def use_model(self, model: Model) -> None:
        """The runner's: a worker reads the model of its own part of the customers."""
        self._model = model

    def drop_values(self, drop: Callable[[Unit], bool]) -> None:
        """Let go of the effective values of the units `drop` names (computed again if asked for)."""
        for unit in [u for u in self._values if drop(u)]:
            del self._values[unit]

    @property
    def layer_memo(self) -> dict[Any, Any]:
        """The merges of product-level layers, shared by everything that computes values at this revision."""
        return self._layer_memo

    @property
    def has_infra(self) -> bool:
        return INFRA in self.sources

    def values(self, unit: Unit) -> UnitValues:
        """The unit's effective values (None and the reasons when a layer cannot be read)."""
        found = self._values.get(unit)
        if found is None:
            found = effective_values(self.store, unit, self.settings.helm_major, self.has_infra, self._layer_memo)
            self._values[unit] = found
            progress.tick(progress.UNITS)
        return found
