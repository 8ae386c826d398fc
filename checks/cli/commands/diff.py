"""`python -m checks diff`: effective-value diffs between revisions or environments."""

from __future__ import annotations

import argparse

from checks.cli.common import (
    DIFF_FORMATS,
    EXIT_OK,
    Parser,
    UsageError,
    add_infra_revision_options,
    add_repo_options,
    check_infra_revisions,
    parse_reports,
)
from checks.model.platform import is_dns_label
from checks.service.diff import DiffRequest, diff


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


def cmd_diff(args: argparse.Namespace) -> int:
    diff(diff_request(args))
    return EXIT_OK


def diff_request(args: argparse.Namespace) -> DiffRequest:
    """The parsed options as a request; options that contradict each other are a usage error (exit 2)."""
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
    return DiffRequest(configs=args.configs, infra=args.infra, config=args.config, base=args.base, head=args.head,
                       infra_base=args.infra_base, infra_head=args.infra_head, direct=args.direct,
                       from_env=args.from_env, to_env=args.to_env, ignore=args.ignore, customers=args.customer,
                       products=args.product, every_unit=args.all, identifiers=_identifiers(args.identifiers),
                       reports=reports)


def main(argv: list[str]) -> int:
    return cmd_diff(diff_parser().parse_args(argv))
