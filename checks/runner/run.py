"""Run the selected checks over a scope and collect their findings.

Checks are independent: one that raises becomes an `internal/crash` finding at
error severity and the others still run. Effective values are computed once per
unit and shared by every check.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from checks.core import progress
from checks.core.findings import Finding, Severity
from checks.engines.redact import Redactor
from checks.model.platform import CONFIGS, INFRA, Model, Unit
from checks.model.unitgroups import merge_unit_groups
from checks.runner import parallel
from checks.runner.context import Context
from checks.runner.registry import Check, all_checks, matches
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


def _run_group(ctx: Context, checks: list[Check]) -> list[Finding]:
    raw: list[Finding] = []
    for check in checks:
        try:
            raw.extend(check.run(ctx))
        except Exception as exc:
            raw.append(_crash(check.id, exc))
        progress.tick(progress.CHECKS)
    return raw


@dataclass
class _PartResult:
    findings: list[Finding]
    units: list[Unit]
    customers: list[str]


def _run_partitioned(ctx: Context, checks: list[Check], workers: int) -> tuple[list[Finding], list[Unit], list[str]]:
    """Every worker runs the per-part checks over its share of the customers; the first also runs
    the whole-platform checks, first (the files they read are then parsed for its part too).
    Each worker reads the customers' metadata and subscriptions (the model) of its part only,
    and says which units and customers it examined."""
    per_part, whole = parallel.split_whole(checks)
    parts = scope_module.partition(parallel.shares(workers, bool(whole) and ctx.has_infra))
    built = ctx.revision.model_built  # PR mode: the CLI built the model of the changed customers

    def task(index: int, only: list[Check] | None = None) -> Callable[[], _PartResult]:
        def run() -> _PartResult:
            found: list[Finding] = []
            if index == 0:
                held = ctx.holdings()
                found = _run_group(ctx, [c for c in whole if only is None or c in only])
            ctx.for_part(parts[index], None)
            if index == 0:
                # every Application and every customer's files: not needed by this part's checks
                ctx.release_other_parts(held)
            if not built:
                mine = {c for c in ctx.sources[CONFIGS].subdirs("customers") if ctx.scope.in_shard(f"customer:{c}")}
                ctx.for_part(parts[index], Model(ctx.store, ctx.settings.environments, mine))
            found += _run_group(ctx, [c for c in per_part if only is None or c in only])
            return _PartResult(found, ctx.units(), _examined_customers(ctx))
        return run

    results = parallel.run_tasks([task(i) for i in range(workers)], ctx.close_readers)
    done: list[_PartResult] = []
    for index, result in enumerate(results):
        if result is not None:
            done.append(result)
            continue
        # its process died: again, one check per process, to keep the others' findings
        for check in (whole if index == 0 else []) + per_part:
            (alone,) = parallel.run_tasks([task(index, [check])], ctx.close_readers)
            done.append(alone or _PartResult([parallel.died(check.id)], [], []))
    raw = [f for r in done for f in r.findings]
    units = {u for r in done for u in r.units}
    customers = {c for r in done for c in r.customers}
    # findings about files every part reads (products/, the infra repo) come once per part: deduped later
    return raw, sorted(units), sorted(customers)


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
    raw = merge_unit_groups(raw, keep=ctx.scope.shard is not None)
    # Settings may change a check's severity; apply it to whatever the check yielded.
    overrides = ctx.settings.severity
    if overrides:
        raw = [f.with_severity(overrides[f.check]) if f.check in overrides else f for f in raw]
    raw = _dedupe(raw)
    units, customers = partitioned if partitioned else (ctx.units(), _examined_customers(ctx))
    raw.extend(_empty_scope(ctx, units))

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

    filtered: Filtered = apply_inline(raw, line_of, added, is_known)
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
