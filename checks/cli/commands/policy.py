"""`python -m checks policy test [DIR...]`: the Rego unit tests (test_* rules)."""

from __future__ import annotations

import sys
from pathlib import Path

from checks.cli.common import EXIT_FINDINGS, EXIT_OK, Parser, UsageError


def cmd_policy(argv: list[str]) -> int:
    from checks.engines.rego import bundled_policies, load_policies, run_policy_tests

    p = Parser(prog="python -m checks policy", description="Run the Rego unit tests (test_* rules).")
    p.add_argument("action", choices=["test"])
    p.add_argument("dirs", nargs="*", type=Path, help="policy folders (default: the bundled starter pack)")
    args = p.parse_args(argv)
    dirs = args.dirs or ([bundled_policies()] if bundled_policies() else [])
    if not dirs:
        raise UsageError("no policy folder given and no bundled starter pack found")
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"{d}: no such directory")
    policies = load_policies([(d.name, d) for d in dirs])
    for problem in policies.problems:
        print(f"{problem.policy.label}:{problem.line or '?'}: {problem.message}")
    outcomes = run_policy_tests(policies)
    for label, name, passed, note in outcomes:
        print(f"{'PASS' if passed else 'FAIL'}  {label}: {name}" + (f"  ({note})" if note else ""))
    passed_count = sum(1 for o in outcomes if o[2])
    failed = len(outcomes) - passed_count + len(policies.problems)
    print(f"{passed_count} passed, {failed} failed")
    if not outcomes:
        print("gitops-checks: no test_* rules found", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK if failed == 0 else EXIT_FINDINGS

