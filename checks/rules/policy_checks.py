"""`policy/*`: the team's Rego policies over every unit, with the line that set each value."""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks.core.findings import Finding, Severity
from checks.engines.rego import (
    ConftestEngine,
    EngineError,
    PolicySet,
    RegorusEngine,
    Result,
    SandboxedRegorus,
    bundled_policies,
    input_json,
    load_policy_texts,
    make_engine,
    policy_texts_in,
)
from checks.model.platform import CONFIGS, Unit
from checks.model.unitgroups import UNITS, grouped_finding, locate
from checks.repo.source import SourceError
from checks.runner.context import BUNDLED_POLICIES, Shared
from checks.runner.registry import Check, register

if TYPE_CHECKING:
    from checks.runner.run import Context

BUNDLED = BUNDLED_POLICIES


def policy_entries(ctx: Context) -> tuple[list[tuple[str, str | None, str | None]], frozenset[str]]:
    """(label, text, problem) of every policy to load, and the labels read from the repository.
    Repository policies come from `ctx.policy_source` (the merge base in PR mode), as regular
    files of git's tree only: a symlinked `.rego` is a problem, never read."""
    entries: list[tuple[str, str | None, str | None]] = []
    pack = bundled_policies()
    if ctx.settings.policy_builtin and pack is not None:
        entries.extend(policy_texts_in("policies", pack))
    source = ctx.policy_source
    untrusted = set()
    for rel in ctx.settings.policy_paths:
        prefix = posixpath.normpath(rel.strip("/")) + "/"
        if prefix.startswith("../") or prefix.startswith("/"):
            continue
        for path in sorted(p for p in source.files() if p.startswith(prefix) and p.endswith(".rego")):
            untrusted.add(path)
            entry = source.entry(path)
            if entry is None or entry.is_symlink:
                entries.append((path, None, "a symlink; policies are never read through links"))
                continue
            try:
                entries.append((path, source.read(path).decode("utf-8"), None))
            except (SourceError, UnicodeDecodeError) as exc:
                entries.append((path, None, f"cannot read policy: {type(exc).__name__}"))
    return entries, frozenset(untrusted)


POLICY_SET: Shared[PolicySet] = Shared("policy-set", kept=True)


def policy_set(ctx: Context) -> PolicySet:
    """The built-in and the team's Rego policies, loaded once per run."""
    def build() -> PolicySet:
        entries, untrusted = policy_entries(ctx)
        return load_policy_texts(entries, untrusted)
    return ctx.shared(POLICY_SET, build)


def _repo_of(ctx: Context, label: str) -> str:
    return BUNDLED if label.startswith("policies/") and ctx.settings.policy_builtin else CONFIGS


def policy_input(ctx: Context, unit: Unit, values: dict[str, Any]) -> dict[str, Any]:
    customer = ctx.model.customers.get(unit.customer)
    metadata = dict(customer.metadata or {}) if customer else {}
    metadata.setdefault("id", unit.customer)
    result: dict[str, Any] = {"customer": metadata, "product": unit.product, "environment": unit.environment,
                              "values": values}
    declared = ctx.settings.policy_workloads.get(unit.product)
    if declared:
        # where this product's chart keeps its workloads (settings); the starter pack checks only those
        result["workloads"] = [[step for step in path.split(".") if step] for path in declared]
    elif ctx.settings.policy_builtin:
        result["workload_candidates"], result["workload_paths"] = workload_maps(values)
    return result


WORKLOAD_KEYS = frozenset({"replicaCount", "replicas", "resources", "resourcesPreset"})
# policies/workloads.rego's `standalone_off`: Bitnami's replica sets, off under `architecture: standalone`
STANDALONE_OFF = frozenset({"readReplicas", "replica", "secondary", "arbiter", "hidden"})


def workload_maps(values: Any) -> tuple[list[list[str]], list[list[str]]]:
    """The workload candidates (see `workload_candidates`) and, of those, what policies/workloads.rego's
    `workload_paths` keeps: not switched off -- no map from the top down to it (itself included)
    with `enabled: false`, and not a Bitnami replica set under `architecture: standalone`."""
    candidates: list[list[str]] = []
    paths: list[list[str]] = []
    if not isinstance(values, dict):
        return candidates, paths
    standalone = values.get("architecture") == "standalone"
    stack: list[tuple[list[str], dict, bool]] = [([], values, False)]
    while stack:
        path, node, off = stack.pop()
        off = off or node.get("enabled") is False
        if not WORKLOAD_KEYS.isdisjoint(node):
            candidates.append(path)
            if not off and not (standalone and path and path[0] in STANDALONE_OFF):
                paths.append(path)
        for key, child in node.items():
            if isinstance(child, dict) and not (not path and key == "global"):
                stack.append(([*path, key if isinstance(key, str) else _json_key(key)], child, off))
    return candidates, paths


def workload_candidates(values: Any) -> list[list[str]]:
    """What policies/workloads.rego would find with walk(): the key path of every map holding a
    workload key, reached through maps only (not in a list), not under a top-level `global`.
    Keys as the policy sees them after JSON (a YAML `1:` key is "1")."""
    found: list[list[str]] = []
    stack: list[tuple[list[str], Any]] = [([], values)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        if not WORKLOAD_KEYS.isdisjoint(node):
            found.append(path)
        for key, child in node.items():
            if isinstance(child, dict) and not (not path and key == "global"):
                stack.append(([*path, key if isinstance(key, str) else _json_key(key)], child))
    return found


def _json_key(key: Any) -> str:
    try:
        return next(iter(json.loads(json.dumps({key: 0}))))
    except TypeError:  # a key JSON cannot hold (a date): the engine's input fails anyway
        return str(key)


class PolicyEvaluator:
    """The run's policy engine, built once per process, and what it answered: per four-layer unit
    (policy/rego's units are the units appset/deployed-policy compares with: evaluated once for
    both, whichever asks first) and per distinct input text (the deployed units: one evaluation
    for inputs byte-identical after serialisation). An engine error is raised to each caller and
    remembered for none: each reports it as before."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._engine: RegorusEngine | SandboxedRegorus | ConftestEngine | None = None
        self.by_unit: dict[Unit, list[Result]] = {}
        self._by_text: dict[bytes, list[Result]] = {}

    @property
    def engine(self) -> RegorusEngine | SandboxedRegorus | ConftestEngine:
        if self._engine is None:
            self._engine = make_engine(self._ctx.settings.policy_engine, policy_set(self._ctx))
        return self._engine

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        """Results per input, each distinct input evaluated once per run and process."""
        texts = [input_json(document) for document in inputs]
        keys = [_digest(text) for text in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._by_text and key not in missing:
                missing[key] = text
        if missing:
            found = self.engine.evaluate_texts(list(missing.values()))
            self._by_text.update(zip(missing, found, strict=True))
        return [self._by_text[key] for key in keys]

    def units(self, units: list[Unit]) -> dict[Unit, list[Result]]:
        """Results of the four-layer units that have values (the others have none to check)."""
        ctx = self._ctx
        todo: list[Unit] = []
        texts: list[str] = []
        for unit in units:
            if unit in self.by_unit:
                continue
            ev, _ = ctx.values(unit)
            if ev is not None:
                todo.append(unit)
                texts.append(input_json(policy_input(ctx, unit, ev.values)))
        if todo:
            self.by_unit.update(zip(todo, self.engine.evaluate_texts(texts), strict=True))
        return {unit: self.by_unit[unit] for unit in units if unit in self.by_unit}


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


EVALUATOR: Shared[PolicyEvaluator] = Shared("policy-evaluator", kept=True)


def evaluator(ctx: Context) -> PolicyEvaluator:
    return ctx.shared(EVALUATOR, lambda: PolicyEvaluator(ctx))


@dataclass
class Evaluation:
    results: dict[Unit, list[Result]] = field(default_factory=dict)
    error: str | None = None
    engine: str = ""


EVALUATION: Shared[Evaluation] = Shared("policy-evaluation")


def evaluate(ctx: Context) -> Evaluation:
    return ctx.shared(EVALUATION, lambda: _evaluate(ctx))


def _evaluate(ctx: Context) -> Evaluation:
    evaluation = Evaluation()
    if policy_set(ctx).packages:
        shared = evaluator(ctx)
        try:
            evaluation.engine = shared.engine.name
            evaluation.results = shared.units(ctx.units())
        except (EngineError, FileNotFoundError) as exc:
            evaluation.error = str(exc)
    return evaluation


@register
class Rego(Check):
    """Rego policies (conftest conventions) over every unit: `{customer, product, environment, values}`.

    `deny*`/`violation*` rules are errors, `warn*` warnings; `exception` rules turn rules off
    as in conftest. A rule returning `{msg, path}` is reported at the file and line that
    set `values.<path>`; the same finding from one line in many units is reported once.
    The starter pack in `policies/` runs unless `policies.builtin: false`; add team
    directories with `policies.paths`. Engine: conftest when on PATH, else the embedded
    Regorus (`--policy-engine auto|conftest|regorus`).

    Passes:   prod: replicaCount: 3
    Fails:    prod: replicaCount: 1     (deny_prod_replicas, at the line that set it)
    """

    id = "policy/rego"
    subject = "unit"

    def run(self, ctx: Context) -> Iterator[Finding]:
        evaluation = evaluate(ctx)
        grouped: dict[tuple, list[Unit]] = defaultdict(list)
        for unit, results in evaluation.results.items():
            ev, _ = ctx.values(unit)
            if ev is None:
                continue
            for result in results:
                where = locate(ev, result.path or ())
                key = (where.repo, where.path, where.line, where.column, result.kind, result.rule, result.message,
                       result.path or ())
                grouped[key].append(unit)
        for (repo, path, line, column, kind, rule, message, key_path), units in grouped.items():
            yield grouped_finding(self, f"{message} [{rule}] ({UNITS})", units,
                                  severity=Severity.WARNING if kind == "warn" else Severity.ERROR,
                                  repo=repo, path=path, line=line, column=column, key_path=key_path,
                                  discriminator=f"{rule}|{message}" if not key_path else rule)


@register
class RegoSyntax(Check):
    """Policy files parse: a Rego syntax error is reported at its file and line, that file is
    left out, and every other policy and check still runs.

    Passes:   -- .gitops-checks.yaml --
              policies: {paths: [policies]}
              -- policies/team.rego --
              package team
              import rego.v1
              deny_x contains msg if { input.environment == "prod"; msg := "..." }
    Fails:    -- .gitops-checks.yaml --
              policies: {paths: [policies]}
              -- policies/team.rego --
              package team
              import rego.v1
              deny_x contains msg if { input.environment == }
    """

    id = "policy/syntax"
    subject = "run"

    def run(self, ctx: Context) -> Iterator[Finding]:
        for problem in policy_set(ctx).problems:
            yield self.finding(problem.message, repo=_repo_of(ctx, problem.policy.label),
                               path=problem.policy.label, line=problem.line, column=problem.column,
                               discriminator=problem.message)


@register
class Engine(Check):
    """The policy engine ran: conftest's own errors (odd exit, unreadable output) or a Regorus
    evaluation error are an error here -- never a silent pass.

    Passes:   -- .gitops-checks.yaml --     (every unit evaluated)
              policies: {paths: [policies]}
              -- policies/team.rego --
              package team
              import rego.v1
              deny contains "one replica" if input.values.replicaCount == 1
    Fails:    -- .gitops-checks.yaml --     (the engine crashes on endless recursion; so would conftest exiting 2)
              policies: {paths: [policies]}
              -- policies/team.rego --
              package team
              import rego.v1
              f(x) := y if { y := f(x + 1) }
              deny contains msg if { msg := sprintf("%v", [f(1)]) }
    """

    id = "policy/engine"
    subject = "run"

    def run(self, ctx: Context) -> Iterator[Finding]:
        evaluation = evaluate(ctx)
        if evaluation.error:
            yield self.finding(f"policies were not evaluated: {evaluation.error}", discriminator="engine")
