"""The diff: what `python -m checks diff` does once its options are parsed -- effective values
between two revisions (of either repository, or both) or between two environments, unit by unit,
written in every report asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from checks.core.errors import UsageError
from checks.core.settings import Settings
from checks.diffing.pull_request import pull_request
from checks.diffing.revisions import revision_diff
from checks.diffing.sides import Side, side_at
from checks.diffing.units import DiffResult, diff_environments
from checks.model.platform import CONFIGS
from checks.repo.documents import DocumentStore
from checks.repo.source import Source
from checks.reports.output import ReportSpec, write_diff_reports
from checks.service.repositories import repos, require_layout


@dataclass(frozen=True)
class DiffRequest:
    configs: Path | None = None
    infra: Path | None = None
    config: Path | None = None
    base: str | None = None  # revisions: base...head (from their merge base unless `direct`)
    head: str | None = None
    infra_base: str | None = None
    infra_head: str | None = None
    direct: bool = False
    from_env: str | None = None  # environments: what `to_env` becomes if it takes `from_env`'s values
    to_env: str | None = None
    ignore: Sequence[str] = ()
    customers: Sequence[str] = ()
    products: Sequence[str] = ()
    every_unit: bool = False
    identifiers: tuple[str, ...] = ("name", "key", "id")
    reports: Sequence[ReportSpec] = (("text", None),)


def diff(request: DiffRequest) -> DiffResult:
    """The diff, written to every report asked for. Unknown customers, products or environments
    are a UsageError."""
    with repos(request.configs, request.infra, request.config, request.head,
               request.infra_head) as (configs, sources, settings):
        require_layout(configs, sources[CONFIGS], request.configs is not None)
        head = side_at(settings, sources, DocumentStore(sources, settings.limits))
        if request.from_env and request.to_env:
            result = _environments(request, request.from_env, request.to_env, head, sources, settings)
        else:
            result = _revisions(request, head, configs, sources)
        write_diff_reports(result, request.reports)
    return result


def _environments(request: DiffRequest, from_env: str, to_env: str, side: Side, sources: dict[str, Source],
                  settings: Settings) -> DiffResult:
    _require_known("--customer", request.customers, sources[CONFIGS].subdirs("customers"))
    _require_known("--product", request.products, sources[CONFIGS].subdirs("products"))
    environments = set(settings.environments) | {u.environment for u in side.model.units()}
    _require_known("--from-env", [from_env], environments)
    _require_known("--to-env", [to_env], environments)
    return diff_environments(side, from_env, to_env, set(request.customers) or None,
                             set(request.products) or None, request.head or "working tree", request.identifiers,
                             ignore=tuple(dict.fromkeys([*settings.diff_ignore, *request.ignore])))


def _revisions(request: DiffRequest, head: Side, configs: Path, sources: dict[str, Source]) -> DiffResult:
    pr = pull_request(configs, request.infra, request.base, request.head, request.infra_base, request.infra_head,
                      request.direct)
    result = revision_diff(pr, head, request.identifiers, every_unit=request.every_unit)
    # a customer or product may exist only at base (removed by the change): it is then in the diff
    customers, products = set(request.customers), set(request.products)
    _require_known("--customer", request.customers,
                   sources[CONFIGS].subdirs("customers") | {u.unit.customer for u in result.units})
    _require_known("--product", request.products,
                   sources[CONFIGS].subdirs("products") | {u.unit.product for u in result.units})
    if customers or products:
        result.units = [u for u in result.units if (not customers or u.unit.customer in customers)
                        and (not products or u.unit.product in products)]
    return result


def _require_known(option: str, given: Sequence[str], known: set[str]) -> None:
    unknown = [g for g in given if g not in known]
    if unknown:
        raise UsageError(f"{option} {unknown[0]}: no such name here (known: {', '.join(sorted(known)) or 'none'})")
