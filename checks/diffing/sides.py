"""One side of a diff: what the diffs read of a revision, given explicitly -- its documents,
model and effective values (a model.revision.Revision), the units in scope and the Applications
its ApplicationSets generate. The diffs take Sides, not the checks' Context; only the deployed
units, a check family's computation the diff reuses, are asked through a view built here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checks.core.settings import Settings
from checks.engines.app_generation import ApplicationGenerator, scope_customers
from checks.model.platform import CONFIGS, INFRA, Model, Unit
from checks.model.revision import Revision, UnitValues
from checks.repo.documents import DocumentStore
from checks.repo.source import Source
from checks.runner.context import Context
from checks.scope.selection import Scope, full_scope

if TYPE_CHECKING:
    from checks.engines.appsets import Generation
    from checks.engines.jsonschemas import CompiledSchema


@dataclass
class Side:
    revision: Revision
    scope: Scope
    applications: ApplicationGenerator  # shared with the checks when the side is the run's own revision
    _schemas: dict[tuple[str, str], CompiledSchema | None] = field(default_factory=dict, repr=False)
    _view: Context | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return self.revision.settings

    @property
    def sources(self) -> Mapping[str, Source]:
        return self.revision.sources

    @property
    def store(self) -> DocumentStore:
        return self.revision.store

    @property
    def model(self) -> Model:
        return self.revision.model

    def units(self) -> list[Unit]:
        """The units of the model that the scope includes."""
        return [u for u in self.model.units() if self.scope.includes_unit(u)]

    def values(self, unit: Unit) -> UnitValues:
        return self.revision.values(unit)

    def generations(self) -> list[Generation]:
        """What each ApplicationSet generates over the scope's customers."""
        return self.applications.generations(scope_customers(self.scope))

    def checks_view(self) -> Context:
        """This side as the checks see it, for the one diff that reuses a check family's computation
        (the deployed units of rules/deployed_units.py, written against the checks' Context): built
        once per side from these inputs, sharing its revision."""
        if self._view is None:
            self._view = Context(self.settings, self.sources, self.store, self.scope, revision=self.revision,
                                 applications=self.applications)
        return self._view

    def with_scope(self, scope: Scope) -> Side:
        """The same revision (documents, model, values, Applications generated) over another scope."""
        return Side(self.revision, scope, self.applications, self._schemas)

    def product_schemas(self, product: str) -> list[CompiledSchema]:
        """`products/{product}/values.schema.json` of customer-configs and of the chart, each compiled once."""
        from checks.engines.jsonschemas import compile_schema

        out = []
        for repo in (CONFIGS, INFRA):
            if repo not in self.sources:
                continue
            key = (repo, product)
            if key not in self._schemas:
                self._schemas[key] = compile_schema(self.store, repo, f"products/{product}/values.schema.json")
            compiled = self._schemas[key]
            if compiled is not None:
                out.append(compiled)
        return out


def side_at(settings: Settings, sources: Mapping[str, Source], store: DocumentStore, scope: Scope | None = None,
            model: Model | None = None) -> Side:
    """A side read afresh: its own values and its own generator."""
    return Side(Revision(settings, sources, store, model), scope if scope is not None else full_scope(),
                ApplicationGenerator(store, settings))
