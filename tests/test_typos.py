"""No silent success on a typo or on nothing: unknown names exit 2 with the known ones, an empty
check selection and a folder that is not customer-configs exit 2, and --help says what exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLES, commit_all, copy_examples, git, init_repo, run_cli, write_tree

from checks.cli.common import DIFF_FORMATS, FINDING_FORMATS
from checks.cli.subcommands import SUBCOMMANDS
from checks.reports.formats import reporters

CONFIGS = EXAMPLES / "customer-configs"
INFRA = EXAMPLES / "platform-infrastructure"


def _refused(proc, *names: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for name in names:
        assert name in proc.stderr, proc.stderr


def test_values_with_an_unknown_environment_lists_the_known_ones():
    proc = run_cli("values", "acme-corp", "billing", "prdo", "--configs", CONFIGS)
    _refused(proc, "no environment 'prdo'", "dev, prod, staging")
    ok = run_cli("values", "acme-corp", "billing", "prod", "--configs", CONFIGS)
    assert ok.returncode == 0 and "replicaCount" in ok.stdout


@pytest.mark.parametrize("args, names", [
    (["--from-env", "stagign", "--to-env", "prod"], ["--from-env stagign", "dev, prod, staging"]),
    (["--from-env", "staging", "--to-env", "prd"], ["--to-env prd", "dev, prod, staging"]),
    (["--from-env", "staging", "--to-env", "prod", "--customer", "acme"], ["--customer acme", "acme-corp"]),
    (["--from-env", "staging", "--to-env", "prod", "--product", "bill"], ["--product bill", "billing, "]),
])
def test_promotion_diff_with_an_unknown_name_exits_2(args, names):
    _refused(run_cli("diff", "--configs", CONFIGS, *args), *names)


def test_revision_diff_with_an_unknown_customer_or_product_exits_2(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    init_repo(configs)
    (configs / "products/billing/environments/staging.yaml").write_text("replicaCount: 5\n")
    _refused(run_cli("diff", "--configs", configs, "--base", "main", "--customer", "acmecorp"), "--customer acmecorp",
             "acme-corp")
    _refused(run_cli("diff", "--configs", configs, "--base", "main", "--product", "biling"), "--product biling")
    # a customer removed by the change is known: it is in the diff
    git(configs, "rm", "-rq", "customers/globex")
    commit_all(configs, "offboard globex")
    proc = run_cli("diff", "--configs", configs, "--base", "main~1", "--head", "HEAD", "--customer", "globex")
    assert proc.returncode == 0 and "removed" in proc.stdout


def test_a_selection_of_zero_checks_exits_2(tmp_path: Path):
    _refused(run_cli("--configs", CONFIGS, "--check", "yaml/syntax", "--skip", "yaml/syntax"), "no check selected")
    _refused(run_cli("--configs", CONFIGS, "--check", "yaml", "--skip", "yaml"), "no check selected")
    configs, _ = copy_examples(tmp_path)
    families = ["yaml", "schema", "consistency", "secrets", "terraform", "policy", "appset", "git"]
    (configs / ".gitops-checks.yaml").write_text("checks:\n  disable: [" + ", ".join(families) + "]\n")
    _refused(run_cli("--configs", configs), "no check selected")


def test_a_folder_without_customers_and_products_exits_2_with_a_hint(tmp_path: Path):
    elsewhere = tmp_path / "docs"
    write_tree(elsewhere, {"README.md": "# not configs\n", "values.yaml": "a: 1\n"})
    _refused(run_cli("--configs", elsewhere), "no customers/ and no products/", "--configs DIR")
    _refused(run_cli(cwd=elsewhere), "current folder", "no customers/ and no products/")
    _refused(run_cli("diff", "--configs", elsewhere, "--from-env", "dev", "--to-env", "prod"), "no customers/")
    # products alone (a new repository) is customer-configs
    write_tree(tmp_path / "new", {"products/billing/base-values.yaml": "replicaCount: 1\n"})
    assert run_cli("--configs", tmp_path / "new").returncode in (0, 1)


def test_help_lists_the_subcommands_and_every_report_format():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for name, (_, _, text) in SUBCOMMANDS.items():
        assert f"  {name} " in proc.stdout and text in proc.stdout
    flat = " ".join(proc.stdout.split())
    assert set(FINDING_FORMATS) == set(reporters())
    for fmt in [*FINDING_FORMATS, "bitbucket", *(f"diff-{f}" for f in DIFF_FORMATS)]:
        assert fmt in flat.split("--report FORMAT[=PATH] ", 1)[1].split("--baseline", 1)[0], fmt
