"""What a check is given: the settings, both repositories, the scope, and named services
(documents, the model, units, effective values, generated Applications, secret detectors,
the Terraform index, compiled schemas, policies), each computed once and shared by every
check of the run.

Checks only read it. The runner alone narrows it to a worker's part of the customers
(`for_part`). Data one family of checks shares among its own checks goes through a typed
`Shared` key (`ctx.shared(KEY, build)`), never an untyped dictionary.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from checks.core.settings import Settings
from checks.model.platform import CONFIGS, INFRA, Model, Unit, is_chart_template
from checks.model.revision import Revision, UnitValues
from checks.repo.documents import DocumentStore, is_yaml_path
from checks.repo.history import History
from checks.repo.source import Source
from checks.scope.selection import Scope, full_scope

if TYPE_CHECKING:
    from checks.engines.app_generation import ApplicationGenerator
    from checks.engines.app_generation import Part as ApplicationsPart
    from checks.engines.appsets import Generation
    from checks.engines.jsonschemas import CompiledSchema
    from checks.engines.secret_scan import Detectors
    from checks.engines.sops import SopsConfig
    from checks.engines.terraform import TerraformStore

T = TypeVar("T")
BUNDLED_POLICIES = "gitops-checks"  # the repo label of the built-in policy pack


class TrustedBase(Protocol):
    """What a check may ask of PR mode's trust model (runner/trust.py): the merge base, where the
    gate's own configuration is read, and whether a line is new in the change."""

    @property
    def base(self) -> Source: ...

    @property
    def changes(self) -> Sequence[Any]: ...  # runner.trust.GateChange: what the change does to the gate

    def added_by_change(self, path: str, text: str) -> bool: ...


class Shared(Generic[T]):
    """A named, typed slot for data a family of checks computes once and shares."""

    def __init__(self, name: str, *, kept: bool = False) -> None:
        self.name = name
        # kept by a worker from its Applications' checks to its part's others (see release_other_parts):
        # the same for every part (a compiled policy set, an engine and what it answered)
        self.kept = kept

    def __repr__(self) -> str:
        return f"Shared({self.name!r})"


class Context:
    def __init__(self, settings: Settings, sources: Mapping[str, Source], store: DocumentStore,
                 scope: Scope | None = None, *, model: Model | None = None,
                 histories: Mapping[str, History] | None = None,
                 revision: Revision | None = None, trust: TrustedBase | None = None,
                 applications: ApplicationGenerator | None = None) -> None:
        self._settings = settings
        self._sources: Mapping[str, Source] = MappingProxyType(dict(sources))
        self._store = store
        self._scope = scope if scope is not None else full_scope()
        self._histories: Mapping[str, History] = MappingProxyType(dict(histories or {}))
        self._trust = trust
        self.revision = revision if revision is not None else Revision(settings, self._sources, store, model)
        self._listings: dict[tuple[object, ...], tuple[Scope, Model | None, list[Any]]] = {}
        self._services: dict[str, Any] = {}
        if applications is not None:  # another view of the same revision: its Applications generated once
            self._services["applications"] = applications
        self._shared: dict[Shared[Any], Any] = {}
        self._applications_part: ApplicationsPart | None = None

    # -- what the run is about --------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def sources(self) -> Mapping[str, Source]:
        return self._sources

    @property
    def store(self) -> DocumentStore:
        """Every YAML/JSON file of both repositories, parsed once with the line of every key."""
        return self._store

    @property
    def scope(self) -> Scope:
        return self._scope

    @property
    def histories(self) -> Mapping[str, History]:
        """PR mode: the commits each repository's PR adds (base..head, infra-base..infra-head)."""
        return self._histories

    @property
    def history(self) -> History | None:
        """PR mode: the commits of base..head in customer-configs, for checks that read its history."""
        return self._histories.get(CONFIGS)

    @property
    def trust(self) -> TrustedBase | None:
        """PR mode: the gate's configuration at the merge base, and what the change does to it."""
        return self._trust

    @property
    def policy_source(self) -> Source:
        """Where repository policies are read: the merge base in PR mode (a change cannot rewrite
        the policies that review it), else customer-configs as checked."""
        return self._trust.base if self._trust is not None else self._sources[CONFIGS]

    @property
    def has_infra(self) -> bool:
        return INFRA in self._sources

    # -- the model and values ----------------------------------------------------------------
    @property
    def model(self) -> Model:
        return self.revision.model

    def units(self) -> list[Unit]:
        return list(self._per_scope("units", lambda: [u for u in self.model.units() if self._scope.includes_unit(u)],
                                    self.model))

    def values(self, unit: Unit) -> UnitValues:
        return self.revision.values(unit)

    def chart_products(self) -> set[str]:
        """Products with a chart (`products/{p}/Chart.yaml`) in platform-infrastructure."""
        if INFRA not in self._sources:
            return set()
        infra = self._sources[INFRA]
        return {name for name in infra.subdirs("products") if infra.entry(f"products/{name}/Chart.yaml") is not None}

    # -- files in scope ------------------------------------------------------------------------
    def excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self._settings.exclude)

    def files_in_scope(self, repo: str) -> list[str]:
        """Every file of a repo this run looks at (by scope; the infra repo whole outside PR mode), sorted."""
        def compute() -> list[str]:
            source = self._sources.get(repo)
            if source is None:
                return []
            if self.scope.note:
                # nothing to check (documentation, or no change): the changed files only, without
                # listing the whole tree
                return sorted(p for p in self.scope.files.get(repo, ()) if source.entry(p) is not None
                              and not self.excluded(p))
            # in scope first: a PR's scope keeps a few of 22,000 paths, cheaper to test than `exclude`
            if repo == INFRA:
                return sorted(p for p in source.files() if self._scope.includes_infra_file(p) and not self.excluded(p))
            return sorted(p for p in source.files() if self._scope.includes_file(repo, p) and not self.excluded(p))
        return self._per_scope(f"files:{repo}", compute)

    def yaml_files(self) -> list[tuple[str, str]]:
        """Every YAML file in scope, in both repos; Helm templates are Go templates, not YAML."""
        return self._per_scope("yaml-files", lambda: [
            (repo, path) for repo in self._sources for path in self.files_in_scope(repo)
            if is_yaml_path(path) and not is_chart_template(repo, path)])

    def terraform_files(self) -> list[str]:
        """The `.tf` files of customer-configs in scope (the Terraform checks do not apply `exclude`)."""
        if self.scope.note:
            return [p for p in self.files_in_scope(CONFIGS) if p.endswith(".tf")]
        return self._per_scope("terraform-files", lambda: sorted(
            p for p in self._sources[CONFIGS].files() if p.endswith(".tf") and self._scope.includes_file(CONFIGS, p)))

    def _per_scope(self, name: str, compute: Callable[[], list[Any]], model: Model | None = None) -> list[Any]:
        """Computed once per scope, shard and (for what depends on it) model; the entry keeps them
        alive, so their ids in the key cannot be reused by later objects. Listings do not build the
        model: it reads files, which is cheaper once the tree is listed."""
        key = (name, id(self._scope), self._scope.shard, self._scope.part, id(model))
        entry = self._listings.get(key)
        if entry is None:
            entry = (self._scope, model, compute())
            self._listings[key] = entry
        return entry[2]

    # -- services the engines provide, built on first use --------------------------------------
    def _service(self, name: str, build: Callable[[], T]) -> T:
        if name not in self._services:
            self._services[name] = build()
        found: T = self._services[name]
        return found

    def terraform(self) -> TerraformStore:
        """Every `.tf` file of customer-configs, parsed at most once, grouped by directory."""
        from checks.engines.terraform import TerraformStore

        return self._service("terraform", lambda: TerraformStore(
            self._sources[CONFIGS], self._settings.limits.max_file_bytes, self._store.disk_cache))

    def sops_config(self) -> SopsConfig:
        """customer-configs' `.sops.yaml`, read without keys."""
        from checks.engines import sops

        def build() -> SopsConfig:
            parsed = self._store.get(CONFIGS, ".sops.yaml")
            return sops.read_config(parsed.first.value if parsed and parsed.ok and parsed.first else None)
        return self._service("sops-config", build)

    def secret_detectors(self) -> Detectors:
        """detect-secrets' detectors, less the plugins `secrets/plaintext` turns off."""
        from checks.engines.secret_scan import Detectors

        disabled = tuple(self._settings.check_options("secrets/plaintext").get("disable_plugins", ()))
        return self._service("secret-detectors", lambda: Detectors(disabled))

    def product_schema(self, repo: str, product: str) -> CompiledSchema | None:
        """`products/{product}/values.schema.json` of one repository, compiled (None: there is none)."""
        from checks.engines.jsonschemas import compile_schema

        return self._service(f"schema:{repo}:{product}", lambda: compile_schema(
            self._store, repo, f"products/{product}/values.schema.json"))

    def builtin_validator(self, name: str) -> Any:
        """A built-in schema (metadata, products...) with the settings file's additions."""
        from checks.engines.jsonschemas import extended_validator

        return self._service(f"builtin-schema:{name}", lambda: extended_validator(
            name, self._settings.schemas.get(name)))

    @property
    def applications(self) -> ApplicationGenerator:
        """The generator of ApplicationSets' Applications at this revision (shared with the diffs)."""
        from checks.engines.app_generation import ApplicationGenerator

        return self._service("applications", lambda: ApplicationGenerator(self._store, self._settings))

    def appset_generations(self) -> list[Generation]:
        """What each ApplicationSet generates; in a PR touching only some customers, their Applications
        only; in a forked worker, its part of them (see `for_applications`)."""
        from checks.engines.app_generation import scope_customers

        return self.applications.generations(scope_customers(self._scope), self._applications_part)

    def shared(self, key: Shared[T], build: Callable[[], T]) -> T:
        """What a family of checks computes once and shares among its checks."""
        if key not in self._shared:
            self._shared[key] = build()
        found: T = self._shared[key]
        return found

    def with_scope(self, scope: Scope) -> Context:
        """The same run over another scope (a diff's): settings, repositories, documents, model,
        values and the Applications generator shared; listings and other services of its own."""
        return Context(self._settings, self._sources, self._store, scope, histories=self._histories,
                       revision=self.revision, trust=self._trust,
                       applications=self._services.get("applications"))

    # -- the runner's --------------------------------------------------------------------------
    def for_part(self, part: tuple[frozenset[int], int] | None, model: Model | None) -> None:
        """In a forked worker: narrow the scope to its part (and read the model of its customers)."""
        self._scope.part = part
        if model is not None:
            self.revision.use_model(model)

    def for_applications(self, part: ApplicationsPart | None) -> None:
        """In a forked worker: the checks of generated Applications see its part of them."""
        self._applications_part = part

    def holdings(self) -> tuple[frozenset[str], frozenset[Shared[Any]], frozenset[tuple[str, str]]]:
        """What this context holds now: services, shared results, parsed files (see release_other_parts)."""
        return frozenset(self._services), frozenset(self._shared), frozenset(self._store.held())

    def release_shared(self) -> None:
        """At the end of a run: what the checks shared (the policy engine among them) is let go here,
        on this thread. Left to the cyclic collector (they refer back to this context), Regorus'
        engine could be dropped on another thread of a process that runs the CLI in-process, which
        it refuses ("unsendable")."""
        self._shared.clear()

    def release_applications(self, held: tuple[frozenset[str], frozenset[Shared[Any]],
                                               frozenset[tuple[str, str]]]) -> None:
        """In a worker, after the checks of a share of its generated Applications: those Applications
        and what their checks shared since `held` (but what is `kept`) are let go."""
        if self._applications_part is not None and "applications" in self._services:
            self._services["applications"].forget(self._applications_part)
        for key in [k for k in self._shared if k not in held[1] and not k.kept]:
            del self._shared[key]

    def release_other_parts(self, held: tuple[frozenset[str], frozenset[Shared[Any]],
                                              frozenset[tuple[str, str]]]) -> None:
        """In a worker, after the checks of its generated Applications, before its part's other checks:
        what they shared (but what is `kept`) and read for other parts' customers (files, values) is
        let go. Services (compiled schemas, detectors) stay: the part's checks use them too."""
        files = held[2]
        for key in [k for k in self._shared if k not in held[1] and not k.kept]:
            del self._shared[key]
        scope = self._scope
        self.revision.drop_values(lambda unit: not scope.includes_unit(unit))
        self._store.forget(lambda repo, path: repo == CONFIGS and path.startswith("customers/")
                           and (repo, path) not in files and not scope.includes_file(repo, path))

    def close_readers(self) -> None:
        """Before forking: git cat-file pipes must not be shared; each process opens its own."""
        for source in self._sources.values():
            source.close()

