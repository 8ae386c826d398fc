"""Run the selected checks over a scope and collect their findings.

Checks are independent: one that raises becomes an `internal/crash` finding at
error severity and the others still run. Effective values are computed once per
unit and shared by every check.
"""

from __future__ import annotations

import functools
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from checks.core import progress
from checks.core.findings import Finding, Severity
from checks.engines.app_generation import Part, referenced_customers
from checks.engines.redact import Redactor
from checks.model.platform import CONFIGS, INFRA, Model, Unit
from checks.model.unitgroups import merge_unit_groups
from checks.runner import app_merge, parallel
from checks.runner.context import Context
from checks.runner.registry import Check, Partial, all_checks, matches
from checks.runner.suppressions import Filtered, apply_baseline, apply_inline
from checks.scope import selection as scope_module


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[Finding]
    baselined: list[Finding]
    checks_run: list[str]
    units: int
    files: int
    duration: float
    # For reports that list what was examined (JUnit test cases): names per subject kind.
    examined: dict[str, list[str]] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)  # check id -> subject kind
    # PR mode: findings the change cannot have caused (counted, never failed on), and what the
    # scope says about the run ("no changes in either repository", "documentation only ...")
    outside: list[Finding] = field(default_factory=list)
    note: str = ""
    pull_request: bool = False
    pairing: str = ""  # CI: which revision of the other repository was checked with the one under review
    # PR mode: inline suppressions the change adds ({repo, path, line, checks, reason, hid, refused})
    suppressions_added: list[dict] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def failed(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.findings)


def _crash(check_id: str, exc: BaseException) -> Finding:
    # Type and place only: an exception's text may quote file content, even a secret.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/checks/" in f.filename.replace("\\", "/")]
    where = ""
    if frames:
        last = frames[-1]
        where = f" at {Path(last.filename).name}:{last.lineno}"
    return Finding("internal/crash", Severity.ERROR,
                   f"check {check_id} crashed with {type(exc).__name__}{where}; its results are missing",
                   discriminator=check_id)


def _run_group(ctx: Context, checks: list[Check]) -> list[Finding | Partial]:
    raw: list[Finding | Partial] = []
    for check in checks:
        try:
            raw.extend(check.run(ctx))
        except Exception as exc:
            raw.append(_crash(check.id, exc))
        progress.tick(progress.CHECKS)
    return raw


def _conclude(ctx: Context, checks: list[Check], raw: list[Finding | Partial]) -> list[Finding]:
    """The findings, and those the checks draw from every worker's `Partial`s, their lists of
    Applications written (runner/app_merge.py)."""
    found = [f for f in raw if isinstance(f, Finding)]
    parts: dict[str, list] = {}
    for item in raw:
        if isinstance(item, Partial):
            parts.setdefault(item.check, []).append(item.data)
    for check in checks:
        if check.id in parts:
            try:
                found.extend(check.conclude(ctx, parts[check.id]))
            except Exception as exc:
                found.append(_crash(check.id, exc))
    return app_merge.render(found)


@dataclass
class _PartResult:
    findings: list[Finding | Partial]
    units: list[Unit]
    customers: list[str]
    # the generated Applications' checks: their findings, and each ApplicationSet's generation error
    whole: list[Finding | Partial] = field(default_factory=list)
    errors: list[dict[tuple[str, int], str]] = field(default_factory=list)  # one per share


def _run_partitioned(ctx: Context, checks: list[Check], workers: int) -> tuple[list[Finding | Partial],
                                                                              list[Unit], list[str]]:
    """Every worker runs every check over its part of the customers: first the checks of generated
    Applications over the Applications of its part (engines/app_generation.py), then the others.
    Each worker reads the customers' metadata and subscriptions (the model) of its part only, and
    says which units and customers it examined. What needs every Application is concluded here."""
    per_part, whole = parallel.split_whole(checks)
    shard = ctx.scope.shard
    # the classes of customers (and other files) dealt out by the files each holds: parts of equal work
    files = Counter(scope_module.shard_key(repo, path) for repo, path in ctx.yaml_files() if repo == CONFIGS)
    files.update(scope_module.shard_key(CONFIGS, path) for path in ctx.terraform_files())
    weights: dict[int, float] = {}
    for key, count in files.items():
        index = scope_module.slot(key, shard)
        weights[index] = weights.get(index, 0.0) + count
    parts = scope_module.balanced_partition(weights, workers)
    built = ctx.revision.model_built  # PR mode: the CLI built the model of the changed customers

    def customers_of() -> set[str]:  # of the scope's shard and part
        return {c for c in ctx.sources[CONFIGS].subdirs("customers") if ctx.scope.in_shard(f"customer:{c}")}

    def task(index: int | None, only: list[Check] | None = None) -> Callable[[], _PartResult]:
        """Worker `index`'s part; None: the Applications' checks alone, over every Application."""
        def run() -> _PartResult:
            result = _PartResult([], [], [])
            mine = [c for c in whole if only is None or c in only]
            held = ctx.holdings()
            if mine and ctx.has_infra:
                part = None if index is None else parts[index]
                own = set()
                if part is not None:
                    ctx.for_part(part, None)
                    own = customers_of()
                ctx.for_part(None, None)  # the Applications' checks see the whole scope, but their Applications
                # its Applications a share at a time, let go after their checks: the memory of a share's
                model: Model | None = None
                shares = 1 if part is None else max(1, -(-len(own) // parallel.CUSTOMERS_PER_SHARE))
                for share in range(shares):
                    app_part = None if part is None else Part(
                        (part, shard, share, shares), index == 0 and share == 0,
                        functools.partial(scope_module.customer_in_part, part=part, shard=shard,
                                          share=(share, shares)))
                    ctx.for_applications(app_part)
                    if not built and part is not None:
                        # its customers, and those its Applications deploy (of no customer's files: a list's)
                        wanted = own | referenced_customers(ctx.appset_generations())
                        if model is None or not wanted <= (model.only_customers or set()):
                            model = Model(ctx.store, ctx.settings.environments, wanted)
                            ctx.revision.use_model(model)
                    result.whole += _run_group(ctx, mine)
                    # "" where it generates (a part): what one process sees needs the same in every part
                    result.errors.append({(g.appset.path, g.appset.index): g.error.message if g.error else ""
                                          for g in ctx.appset_generations()})
                    ctx.release_applications(held)
                    ctx.for_applications(None)
            if index is None:
                return result
            ctx.for_part(parts[index], None)
            # what the Applications' checks read for others' customers (their Applications, values)
            ctx.release_other_parts(held)
            if not built:
                ctx.for_part(parts[index], Model(ctx.store, ctx.settings.environments, customers_of()))
            result.findings = _run_group(ctx, [c for c in per_part if only is None or c in only])
            result.units, result.customers = ctx.units(), _examined_customers(ctx)
            return result
        return run

    results = parallel.run_tasks([task(i) for i in range(workers)], ctx.close_readers)
    done: list[_PartResult] = []
    for index, result in enumerate(results):
        if result is not None:
            done.append(result)
            continue
        # its process died: again, one check per process, to keep the others' findings
        for check in whole + per_part:
            (alone,) = parallel.run_tasks([task(index, [check])], ctx.close_readers)
            done.append(alone or _PartResult([parallel.died(check.id)], [], []))
    raw = [f for r in done for f in r.findings]
    if _split_differs(done):
        # an ApplicationSet that fails for some customers' files: ArgoCD fails it whole, with its first
        # error; the workers each saw theirs. Its checks again over every Application, in one process.
        (again,) = parallel.run_tasks([task(None)], ctx.close_readers)
        raw += again.whole if again is not None else [parallel.died("appset")]
    else:
        raw += [f for r in done for f in r.whole]
    units = {u for r in done for u in r.units}
    customers = {c for r in done for c in r.customers}
    # findings about files every part reads (products/, the infra repo) come once per part: deduped later
    return raw, sorted(units), sorted(customers)


def _split_differs(done: list[_PartResult]) -> bool:
    """Whether the workers' parts of the Applications do not add up to what one process sees: an
    ApplicationSet's generation failing in some parts (or with other errors), or one problem of
    `appset/template` placed differently."""
    errors = [e for r in done for e in r.errors]
    failed = {key for e in errors for key, error in e.items() if error}
    if any(len({e[key] for e in errors if key in e}) > 1 for key in failed):
        return True
    where: dict[tuple, set] = {}
    for r in done:
        for f in r.whole:
            if isinstance(f, Finding) and f.check == "appset/template":
                where.setdefault((f.path, f.key_path[:1], f.discriminator), set()).add((f.line, f.key_path))
    return any(len(places) > 1 for places in where.values())


def run_checks(ctx: Context, checks: list[Check], baseline: dict[str, dict] | None = None,
               workers: bool = True) -> RunResult:
    started = time.perf_counter()
    partitioned: tuple[list[Unit], list[str]] | None = None
    if ctx.scope.note:
        # nothing deployable changed (documentation only, or no change): every check's scope is empty,
        # so none runs -- except the scan of the PR's commits for a secret added and removed again
        in_history = any(history.commits for history in ctx.histories.values())
        raw = _run_group(ctx, [c for c in checks if c.id == "secrets/plaintext" and in_history])
        count = 0
    else:
        # The listing first: every later lookup is then a dict hit, not a stat (forked workers inherit it).
        count = parallel.worker_count(len(ctx.yaml_files())) if workers else 1
    if count > 1:
        raw, part_units, part_customers = _run_partitioned(ctx, checks, count)
        partitioned = (part_units, part_customers)
    elif count == 1:
        raw = _run_group(ctx, checks)
    # "N units of M customers" over every worker's part; a shard keeps the units for merge-reports
    found = merge_unit_groups(_conclude(ctx, checks, raw), keep=ctx.scope.shard is not None)
    # Settings may change a check's severity; apply it to whatever the check yielded.
    overrides = ctx.settings.severity
    if overrides:
        found = [f.with_severity(overrides[f.check]) if f.check in overrides else f for f in found]
    found = _dedupe(found)
    units, customers = partitioned if partitioned else (ctx.units(), _examined_customers(ctx))
    found.extend(_empty_scope(ctx, units))

    def line_of(repo: str, path: str, line: int) -> str:
        parsed = ctx.store.get(repo, path)
        return parsed.line_text(line) if parsed else ""

    added = None
    if ctx.trust is not None:  # PR mode: which suppressions the change itself adds
        trust = ctx.trust
        added = lambda repo, path, text: repo == CONFIGS and trust.added_by_change(path, text)  # noqa: E731
    known = all_checks()

    def is_known(selector: str) -> bool:
        return selector.split("/", 1)[0] == "internal" or any(matches(cid, selector) for cid in known)

    filtered: Filtered = apply_inline(found, line_of, added, is_known)
    if baseline:
        filtered = apply_baseline(filtered, baseline)
    redactor = Redactor()  # no value or key a detector flags leaves in a message or key path
    findings = sorted((redactor.finding(f) for f in filtered.kept), key=Finding.sort_key)
    for added_entry in filtered.added:
        added_entry["reason"] = redactor.text(added_entry["reason"])
    outside = [f for f in findings if not ctx.scope.owns(f)]
    if outside:
        findings = [f for f in findings if ctx.scope.owns(f)]
    examined = _examined(ctx, units, customers)
    return RunResult(
        findings=findings,
        suppressed=filtered.suppressed,
        baselined=filtered.baselined,
        suppressions_added=filtered.added,
        checks_run=[c.id for c in checks],
        units=len(units),
        files=len(examined["file"]) + len(examined["terraform"]),
        duration=time.perf_counter() - started,
        examined=examined,
        subjects={c.id: c.subject for c in checks},
        outside=outside,
        note=ctx.scope.note,
        pull_request=ctx.scope.pull_request,
    )


def _examined_customers(ctx: Context) -> list[str]:
    return sorted(c for c in ctx.model.customers if ctx.scope.includes_file(CONFIGS, f"customers/{c}/products.yaml"))


def _examined(ctx: Context, units: list[Unit], customers: list[str]) -> dict[str, list[str]]:
    return {
            "unit": [u.label for u in units],
            "file": [f"{repo}/{path}" for repo, path in ctx.yaml_files()],
            "customer": customers,
            "terraform": [f"{CONFIGS}/{p}" for p in ctx.terraform_files()],
            "appset": sorted(f"{INFRA}/{p}" for p in (ctx.sources[INFRA].files() if INFRA in ctx.sources else ())
                             if p.startswith("applicationsets/")),
            "run": ["all"],
        }


def _empty_scope(ctx: Context, units: list[Unit]) -> list[Finding]:
    """The trap of peers: a PR that changes files this suite reads, yet nothing gets checked."""
    scope = ctx.scope
    changes = [*scope.changes, *scope.infra_changes]
    if scope.full or not changes or scope.shard is not None:
        return []
    relevant = [c.path for c in changes if not scope_module.is_documentation(c.path) and c.status != "D"]
    if relevant and not units and not ctx.yaml_files():
        return [Finding("internal/empty-scope", Severity.ERROR,
                        f"{len(relevant)} changed files (e.g. {relevant[0]}) selected nothing to check; "
                        "refusing to pass without checking", discriminator="empty-scope")]
    return []


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.fingerprint, f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
