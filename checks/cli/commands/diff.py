"""`python -m checks diff`: effective-value diffs between revisions or environments."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from checks.cli.common import (
    DIFF_FORMATS,
    EXIT_OK,
    Parser,
    UsageError,
    add_infra_revision_options,
    add_repo_options,
    check_infra_revisions,
    emit_all,
    parse_reports,
    repos,
    require_layout,
    use_color,
)
from checks.diffing.pull_request import pull_request
from checks.diffing.revisions import revision_diff
from checks.model.platform import CONFIGS, is_dns_label
from checks.repo.documents import DocumentStore
from checks.runner.context import Context


def diff_parser() -> Parser:
    p = Parser(prog="python -m checks diff",
                description="Effective-value diffs, unit by unit: base...head, or one environment against another.")
    add_repo_options(p)
    p.add_argument("--base", metavar="REV", help="base revision (the merge base with head is used)")
    p.add_argument("--head", metavar="REV", help="head revision (default: the working tree)")
    add_infra_revision_options(p)
    p.add_argument("--direct", action="store_true",
                   help="compare base and head as they are, not from their merge base (branch promotion)")
    p.add_argument("--from-env", metavar="ENV",
                   help="promotion view: what --to-env becomes if it takes this environment's values")
    p.add_argument("--to-env", metavar="ENV", help="the environment promoted to: read as `ENV now -> ENV after`")
    p.add_argument("--ignore", action="append", default=[], metavar="PATH",
                   help="promotion view: key paths meant to differ between environments (glob, e.g. replicaCount, "
                        "'resources.*', 'ingress.hosts*'; repeatable; added to the settings' diff.ignore), shown "
                        "apart")
    p.add_argument("--customer", action="append", default=[], help="only these customers (repeatable)")
    p.add_argument("--product", action="append", default=[], help="only these products (repeatable)")
    p.add_argument("--all", action="store_true", help="diff every unit, not only those the changed files can affect")
    p.add_argument("--identifiers", default="name,key,id",
                   help="keys that identify list items, in order (default: name,key,id)")
    p.add_argument("--report", action="append", default=[], metavar="FORMAT[=PATH]",
                   help="text, markdown, html or json; to PATH or stdout (repeatable; default text)")
    return p


def _identifiers(text: str) -> tuple[str, ...]:
    return tuple(i.strip() for i in text.split(",") if i.strip())


def write_diff_reports(diff, reports: list[tuple[str, Path | None]]) -> None:
    from checks.reports import diff_html, diff_json, diff_markdown, diff_text

    writers = {"text": diff_text.write, "markdown": diff_markdown.write, "html": diff_html.write,
               "json": diff_json.write}
    jobs: list[tuple[Path | None, Callable[[TextIO], None]]] = []
    for fmt, path in reports:
        if fmt == "text" and path is None:
            jobs.append((None, functools.partial(diff_text.write, diff, color=use_color())))
        else:
            jobs.append((path, functools.partial(writers[fmt], diff)))
    emit_all(jobs)


def _require_known(option: str, given: list[str], known: set[str]) -> None:
    unknown = [g for g in given if g not in known]
    if unknown:
        raise UsageError(f"{option} {unknown[0]}: no such name here (known: {', '.join(sorted(known)) or 'none'})")


def cmd_diff(args: argparse.Namespace) -> int:
    from checks.diffing.units import diff_environments

    reports = parse_reports(args.report, list(DIFF_FORMATS), default="text")
    if bool(args.from_env) != bool(args.to_env):
        raise UsageError("--from-env and --to-env go together")
    if args.ignore and not args.from_env:
        raise UsageError("--ignore applies to the promotion view (--from-env/--to-env)")
    if not args.base and not args.infra_base and not args.from_env:
        raise UsageError("give --base REV and/or --infra-base REV (revisions) or --from-env/--to-env (environments)")
    check_infra_revisions(args)
    for name in [*args.customer, *args.product, *(x for x in (args.from_env, args.to_env) if x)]:
        if not is_dns_label(name):
            raise UsageError(f"{name!r} is not a DNS-1123 label")
    with repos(args.configs, args.infra, args.config, args.head, args.infra_head) as (configs, sources, settings):
        require_layout(configs, sources[CONFIGS], args.configs is not None)
        ctx = Context(settings, sources, DocumentStore(sources, settings.limits))
        identifiers = _identifiers(args.identifiers)
        customers, products = sources[CONFIGS].subdirs("customers"), sources[CONFIGS].subdirs("products")
        if args.from_env:
            _require_known("--customer", args.customer, customers)
            _require_known("--product", args.product, products)
            environments = set(settings.environments) | {u.environment for u in ctx.model.units()}
            _require_known("--from-env", [args.from_env], environments)
            _require_known("--to-env", [args.to_env], environments)
            diff = diff_environments(ctx, args.from_env, args.to_env, set(args.customer) or None,
                                     set(args.product) or None, args.head or "working tree", identifiers,
                                     ignore=tuple(dict.fromkeys([*settings.diff_ignore, *args.ignore])))
        else:
            pr = pull_request(configs, args.infra, args.base, args.head, args.infra_base, args.infra_head,
                              args.direct)
            diff = revision_diff(pr, sources, settings, ctx, identifiers, every_unit=args.all)
            # a customer or product may exist only at base (removed by the change): it is then in the diff
            _require_known("--customer", args.customer, customers | {u.unit.customer for u in diff.units})
            _require_known("--product", args.product, products | {u.unit.product for u in diff.units})
            if args.customer or args.product:
                diff.units = [u for u in diff.units if (not args.customer or u.unit.customer in args.customer)
                              and (not args.product or u.unit.product in args.product)]
        write_diff_reports(diff, reports)
    return EXIT_OK



def main(argv: list[str]) -> int:
    return cmd_diff(diff_parser().parse_args(argv))
