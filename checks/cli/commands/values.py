"""`python -m checks values C P ENV`: the effective Helm values of one unit, and where each came from."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from checks.cli.common import EXIT_FINDINGS, EXIT_OK, Parser, UsageError, add_repo_options, repos
from checks.core.findings import format_key_path
from checks.core.text import printable
from checks.engines.secret_scan import Detectors, mask_values
from checks.model.platform import CONFIGS, INFRA, Model, Unit, is_dns_label
from checks.model.values import effective_values
from checks.repo.documents import DocumentStore


def values_parser() -> Parser:
    p = Parser(prog="python -m checks values",
                description="Print the effective Helm values of one unit (customer, product, environment).")
    p.add_argument("customer")
    p.add_argument("product")
    p.add_argument("environment")
    add_repo_options(p)
    p.add_argument("--rev", metavar="REV", help="read customer-configs at this git revision")
    p.add_argument("--infra-rev", metavar="REV", help="read platform-infrastructure at this git revision")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")
    p.add_argument("--explain", action="store_true", help="also show the file and line that set each value")
    return p


def cmd_values(args: argparse.Namespace) -> int:
    for what, name in (("customer", args.customer), ("product", args.product), ("environment", args.environment)):
        if not is_dns_label(name):
            raise UsageError(f"{what} {name!r} is not a DNS-1123 label")
    with repos(args.configs, args.infra, args.config, args.rev, args.infra_rev) as (configs, sources, settings):
        store = DocumentStore(sources, settings.limits)
        source = sources[CONFIGS]
        if args.customer not in source.subdirs("customers"):
            raise UsageError(f"no customer {args.customer!r} in {configs}")
        if args.product not in source.subdirs("products"):
            raise UsageError(f"no product {args.product!r} in {configs}/products")
        unit = Unit(args.customer, args.product, args.environment)
        subscribed = Model(store, settings.environments, {unit.customer}).units()
        known = set(settings.environments) | {u.environment for u in subscribed}
        env_files = [p.format(p=unit.product, c=unit.customer, e=unit.environment) for p in
                     ("products/{p}/environments/{e}.yaml", "customers/{c}/{p}/environments/{e}.yaml")]
        if unit.environment not in known and not any(source.entry(f) for f in env_files):
            raise UsageError(f"no environment {unit.environment!r}: not in the settings' environments, not in "
                             f"{unit.customer}'s products.yaml and no file {' or '.join(env_files)} "
                             f"(known: {', '.join(sorted(known))})")
        if unit not in subscribed:
            print(f"gitops-checks: note: {unit.label} is not a subscribed unit in products.yaml; "
                  "showing what Helm would render anyway", file=sys.stderr)
        ev, errors = effective_values(store, unit, settings.helm_major, INFRA in sources)
    if ev is None:
        for err in errors:
            print(f"gitops-checks: {err.repo}/{err.path}: {err.reason}", file=sys.stderr)
        return EXIT_FINDINGS
    # --explain is for people: secret-looking values masked, as in diffs; plain output stays exact for Helm
    shown = mask_values(ev.values, Detectors()) if args.explain else ev.values
    if args.format == "json":
        payload = {"values": shown, "sources": _sources_table(ev)} if args.explain else shown
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False, allow_unicode=True)
                         if shown else "{}\n")
        if args.explain:
            sys.stdout.write("\n# where each value comes from (later layers win):\n")
            for row in _sources_table(ev):
                sys.stdout.write(printable(f"# {row['key']}: {row['repo']}/{row['path']}:{row['line'] or '?'} "
                                           f"({row['layer']})") + "\n")
    for c in ev.conflicts:
        print(f"gitops-checks: notice: {c.message}", file=sys.stderr)
    return EXIT_OK


def _sources_table(ev) -> list[dict]:
    rows = []
    for path, _ in ev.leaves():
        origin = ev.origin(path)
        if origin is None:
            continue
        rows.append({"key": format_key_path(path), "repo": origin.repo, "path": origin.path,
                     "line": origin.line, "layer": origin.label})
    return rows



def main(argv: list[str]) -> int:
    return cmd_values(values_parser().parse_args(argv))
