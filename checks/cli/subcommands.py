"""The subcommand table: read by main.py (dispatch) and by the run command's --help (listing).
Kept apart from both so neither imports the other."""

from __future__ import annotations

# subcommand -> (module under checks.cli.commands, its function, one line of help)
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("run", "main", "run every enabled check (the default)"),
    "values": ("values", "main", "effective Helm values of one unit, with --explain the file and line of each"),
    "diff": ("diff", "main", "effective-value diffs between revisions or environments"),
    "apps": ("apps", "main", "the Applications each ApplicationSet would generate"),
    "list": ("listing", "cmd_list", "every check, its severity and summary"),
    "explain": ("listing", "cmd_explain", "one check's documentation and options"),
    "policy": ("policy", "cmd_policy", "run the Rego unit tests (policy test [DIR...])"),
    "merge-reports": ("merge_reports", "cmd_merge_reports", "combine the JSON reports of --shard runs"),
}


def subcommands_help() -> str:
    width = max(map(len, SUBCOMMANDS))
    lines = ["subcommands (python -m checks SUBCOMMAND --help for each):"]
    lines += [f"  {name:{width}}  {text}" for name, (_, _, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)
