"""`python -m checks apps`: the Applications each ApplicationSet would generate."""

from __future__ import annotations

import argparse
import json
import sys

from checks.cli.common import EXIT_OK, Parser, UsageError, add_repo_options, repos
from checks.core.text import printable
from checks.diffing.applications import generated_apps
from checks.diffing.sides import side_at
from checks.repo.documents import DocumentStore


def apps_parser() -> Parser:
    p = Parser(prog="python -m checks apps",
                description="List the Applications each ApplicationSet would generate.")
    add_repo_options(p)
    p.add_argument("--rev", metavar="REV", help="read customer-configs at this git revision")
    p.add_argument("--infra-rev", metavar="REV", help="read platform-infrastructure at this git revision")
    p.add_argument("--format", choices=["text", "json"], default="text")
    return p


def cmd_apps(args: argparse.Namespace) -> int:
    if args.infra is None:
        raise UsageError("--infra DIR is required: ApplicationSets live in platform-infrastructure")
    with repos(args.configs, args.infra, args.config, args.rev, args.infra_rev) as (_, sources, settings):
        side = side_at(settings, sources, DocumentStore(sources, settings.limits))
        apps = generated_apps(side)

        if args.format == "json":  # the Application as ArgoCD would create it, and its parameter set
            from checks.engines.secret_scan import Detectors, mask_values

            detectors = Detectors()  # parameters come from values files: secret-looking leaves masked
            generated = [one for g in side.generations() for one in g.apps]
            for listed, one in zip(apps, generated, strict=True):
                listed["application"] = mask_values(one.manifest, detectors)
                listed["parameters"] = mask_values(one.params, detectors)
        incomplete = [g.appset.name for g in side.generations() if not g.complete]
    if args.format == "json":
        json.dump({"applications": apps, "incomplete": incomplete}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for app in apps:  # names and paths come from the repositories: one printable line each
            sys.stdout.write(printable(f"{app['applicationset']:28} {app['name']:44} ns={app['namespace']} "
                                       f"chart={app['chart']}") + "\n")
            for f in app["valueFiles"]:
                sys.stdout.write(f"{'':29}  {printable(str(f))}\n")
        sys.stdout.write(f"{len(apps)} applications from {len({a['applicationset'] for a in apps})} "
                         "ApplicationSets\n")
        for name in incomplete:
            sys.stdout.write(printable(f"note: {name} was not fully evaluated (see appset/template notices)") + "\n")
    return EXIT_OK



def main(argv: list[str]) -> int:
    return cmd_apps(apps_parser().parse_args(argv))
