"""`python -m checks list` and `explain ID`: the registry, read out."""

from __future__ import annotations

import json

from checks.cli.common import EXIT_OK, Parser, UsageError
from checks.runner.registry import all_checks


def cmd_list(argv: list[str]) -> int:
    p = Parser(prog="python -m checks list", description="List every check.")
    p.parse_args(argv)
    for cid, cls in all_checks().items():
        flag = "" if cls.enabled_by_default else " (opt-in)"
        print(f"{cid:38} {cls.severity!s:8} {cls.summary()}{flag}")
    return EXIT_OK


def cmd_explain(argv: list[str]) -> int:
    p = Parser(prog="python -m checks explain", description="Explain one check.")
    p.add_argument("check_id")
    args = p.parse_args(argv)
    checks = all_checks()
    cls = checks.get(args.check_id)
    if cls is None:
        raise UsageError(f"no check {args.check_id!r} (see `python -m checks list`)")
    print(f"{cls.id}  (default severity: {cls.severity}{'' if cls.enabled_by_default else ', opt-in'})\n")
    print(cls.doc())
    if cls.options:
        print("\nOptions (settings file, checks.options." + cls.id + "):")
        for key, spec in cls.option_specs().items():
            print(f"  {key}: {json.dumps(spec.default)}" + (f"  -- {spec.help}" if spec.help else ""))
    return EXIT_OK

