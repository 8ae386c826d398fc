"""Terraform on real modules (issue 17): python-hcl2 -- the design's HCL library, kept as a test
oracle (pinned in the `test` extra) -- and the suite's tree-sitter reader agree on every module
call, source, argument, variable and default of the Terraform corpus (terraform-aws-eks and
terraform-aws-rds; tests/data/*/SOURCES.tsv). And `terraform/module-source` resolves a local
path before it decides whose module it is."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from helpers import DATA, findings_of, run_json, write_tree

from checks.engines.terraform import Block, parse_hcl

CORPUS = sorted([*(DATA / "terraform").rglob("*.tf"), *(DATA / "realworld" / "terraform").rglob("*.tf")])


def _blocks(path: Path) -> tuple[dict, list[Block]]:
    text = path.read_text()
    ours = parse_hcl(str(path), text)
    assert ours.error is None, ours.error
    return hcl2.loads(text), ours.blocks


def _oracle_blocks(tree: dict, kind: str) -> dict[str, dict]:
    return {name: body for entry in tree.get(kind, []) for name, body in entry.items()}


def test_the_corpus_is_not_empty():
    assert len(CORPUS) >= 25
    assert sum(1 for p in CORPUS for _ in _oracle_blocks(hcl2.loads(p.read_text()), "module")) >= 5


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(DATA)))
def test_modules_sources_and_arguments_agree_with_python_hcl2(path: Path):
    tree, blocks = _blocks(path)
    oracle = _oracle_blocks(tree, "module")
    ours = {b.labels[0]: b for b in blocks if b.type == "module"}
    assert set(ours) == set(oracle)
    for name, block in ours.items():
        expected = oracle[name]
        # arguments and nested blocks together are python-hcl2's keys
        assert set(block.attributes) | {b.type for b in block.blocks} == set(expected), name
        source = block.attributes["source"].literal
        assert source == expected["source"], name
        for arg, attr in block.attributes.items():
            value = expected[arg]
            if attr.literal is not None:  # a plain string literal: the same text
                assert value == attr.literal, (name, arg)
            elif isinstance(value, str) and "${" not in value:
                # python-hcl2 gives unquoted expressions as text; ours keeps only plain literals
                assert not value.startswith('"'), (name, arg)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(DATA)))
def test_variables_and_defaults_agree_with_python_hcl2(path: Path):
    tree, blocks = _blocks(path)
    oracle = _oracle_blocks(tree, "variable")
    ours = {b.labels[0]: b for b in blocks if b.type == "variable"}
    assert set(ours) == set(oracle)
    for name, block in ours.items():
        assert ("default" in block.attributes) == ("default" in oracle[name]), name
        default = block.attributes.get("default")
        if default is not None and default.literal is not None:
            assert oracle[name]["default"] == default.literal, name
        if default is not None and default.is_null:
            assert oracle[name]["default"] is None, name


# -- terraform/module-source: existence and the real target come first (issue 17, item 10) -------
def _tf_repo(tmp: Path, source: str, extra: dict[str, str] | None = None) -> Path:
    rds = DATA / "realworld/terraform/terraform-aws-rds/modules/db_subnet_group"
    configs = tmp / "configs"
    write_tree(configs, {
        "customers/acme/metadata.yaml": "id: acme\nname: Acme\n",
        "customers/acme/products.yaml": "products: []\n",
        "customers/globex/metadata.yaml": "id: globex\nname: Globex\n",
        "customers/globex/products.yaml": "products: []\n",
        "customers/acme/terraform/main.tf": f'module "subnets" {{\n  source = "{source}"\n  name = "acme"\n}}\n',
        **(extra or {}),
    })
    for name in ("main.tf", "variables.tf"):
        for root in ("customers/globex/terraform/db_subnet_group", "shared/terraform-modules/db_subnet_group"):
            (configs / root).mkdir(parents=True, exist_ok=True)
            (configs / root / name).write_text((rds / name).read_text())
    return configs


@pytest.mark.parametrize(("source", "expected"), [
    # a path that does not exist is reported as missing, whatever folder it names (one ../ short of
    # shared/terraform-modules: customers/shared/... was called "another customer's module" before)
    ("../../shared/terraform-modules/nope", "local module customers/shared/terraform-modules/nope does not exist"),
    ("../../globex/terraform/nope", "local module customers/globex/terraform/nope does not exist"),
    # an existing module in another customer's folder is still another customer's (every folder
    # under customers/ is a customer, as the model reads it)
    ("../../globex/terraform/db_subnet_group", "customer acme must not use another customer's module"),
    ("../../../shared/terraform-modules/db_subnet_group", None),
])
def test_local_module_sources_resolve_before_judging_ownership(tmp_path: Path, source: str, expected: str | None):
    configs = _tf_repo(tmp_path, source)
    _, report, proc = run_json("--configs", configs, "--check", "terraform/module-source", tmp=tmp_path)
    assert "Traceback" not in proc.stderr
    messages = [f["message"] for f in findings_of(report, "terraform/module-source")]
    if expected is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(expected), messages
