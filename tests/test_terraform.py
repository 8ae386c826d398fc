"""terraform/*: real module calls from terraform-aws-eks (tests/data/terraform, sources in SOURCES.tsv),
one planted fault per rule at its line, and tflint's pinned-source examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DATA, commit_all, copy_examples, findings_of, init_repo, run_json, write_tree

from checks.engines.terraform import TerraformStore, classify_source, parse_hcl
from checks.repo.source import WorkingTreeSource

EKS = DATA / "terraform" / "terraform-aws-modules_terraform-aws-eks"
BASE = {"customers/acme/metadata.yaml": "id: acme\nname: Acme\n", "customers/acme/products.yaml": "products: []\n"}
MODULE = "shared/terraform-modules/db"
DB_MODULE = {
    f"{MODULE}/variables.tf": 'variable "customer_id" {\n  type = string\n}\n\n'
                              'variable "size_gb" {\n  type    = number\n  default = 20\n}\n',
    f"{MODULE}/main.tf": 'resource "null_resource" "x" {}\n',
}


def tf_repo(tmp: Path, files: dict[str, str]) -> Path:
    configs = tmp / "configs"
    write_tree(configs, {**BASE, **DB_MODULE, **files})
    return configs


def tf_findings(tmp: Path, configs: Path, *extra: str) -> tuple[int, dict]:
    code, report, proc = run_json("--configs", configs, "--check", "terraform", *extra, tmp=tmp)
    assert "Traceback" not in proc.stderr
    return code, report


def at(report: dict, check: str) -> set[tuple]:
    return {(f["path"], f["line"]) for f in findings_of(report, check)}


def test_line_numbers_come_from_the_parse_tree():
    tf = parse_hcl("main.tf", '\n\nmodule "db" {\n  source = "../db"\n\n  size_gb = 50\n}\n')
    (block,) = tf.of_type("module")
    assert (block.line, block.labels) == (3, ["db"])
    assert block.attributes["source"].line == 4 and block.attributes["source"].literal == "../db"
    assert block.attributes["size_gb"].line == 6 and block.attributes["size_gb"].literal is None


def test_terraform_aws_eks_module_calls_pass_module_arguments(tmp_path: Path):
    configs = tmp_path / "configs"
    write_tree(configs, BASE)
    shutil.copytree(EKS, configs / "shared/terraform-modules/eks")
    # the calls checked: every local call whose target folder is in the corpus
    store = TerraformStore(WorkingTreeSource(configs, "customer-configs"), 10_000_000)
    checked = 0
    for directory in store.dirs():
        for tf in store.module(directory):
            assert tf.error is None, tf.error
            for block in tf.of_type("module"):
                src = block.attributes["source"].literal
                if src and classify_source(src).kind == "local":
                    import posixpath

                    if posixpath.normpath(posixpath.join(directory, src)) in store.dirs():
                        checked += 1
    assert checked >= 10
    code, report = tf_findings(tmp_path, configs, "--check", "terraform/module-arguments")
    assert findings_of(report, "terraform/module-arguments") == []
    # the same calls with one fault planted are caught at the line
    main = configs / "shared/terraform-modules/eks/examples/eks-capabilities/main.tf"
    lines = main.read_text().splitlines()
    lines.insert(45, "  not_a_variable = true")  # inside module "ack_eks" (source at line 45)
    main.write_text("\n".join(lines) + "\n")
    code, report = tf_findings(tmp_path, configs, "--check", "terraform/module-arguments")
    assert code == 1
    assert at(report, "terraform/module-arguments") == {
        ("shared/terraform-modules/eks/examples/eks-capabilities/main.tf", 46)}


CALL = 'module "db" {{\n  source = "{source}"\n{body}}}\n'


def call(source: str = "../../../shared/terraform-modules/db", body: str = "  customer_id = \"acme\"\n") -> str:
    return CALL.format(source=source, body=body)


REGISTRY_ALLOWED = "checks:\n  options:\n    terraform/module-source:\n      allowed_hosts: [registry.terraform.io]\n"
FAULTS = {
    # rule: (files, check, path, line, message fragment)
    "unknown argument": ({"customers/acme/terraform/main.tf": call(body='  customer_id = "a"\n  sizeGB = 50\n')},
                         "terraform/module-arguments", 4, "declares no variable 'sizeGB'"),
    "missing required variable": ({"customers/acme/terraform/main.tf": call(body="  size_gb = 50\n")},
                                  "terraform/module-arguments", 1, "required variable 'customer_id'"),
    "count with for_each": ({"customers/acme/terraform/main.tf": call(
        body='  customer_id = "a"\n  count = 1\n  for_each = toset([])\n')},
        "terraform/module-arguments", 5, "count and for_each"),
    "missing local target": ({"customers/acme/terraform/main.tf": call("../../../shared/terraform-modules/nope")},
                             "terraform/module-source", 2, "does not exist"),
    "leaves the repository": ({"customers/acme/terraform/main.tf": call("../../../../outside")},
                              "terraform/module-source", 2, "leaves the repository"),
    "another customer's folder": ({"customers/acme/terraform/main.tf": call("../../globex/terraform"),
                                   "customers/globex/terraform/main.tf": "locals {}\n"},
                                  "terraform/module-source", 2, "another customer's module"),
    "outside allowed roots": ({"customers/acme/terraform/main.tf": call("../../../modules/db"),
                               "modules/db/main.tf": 'variable "customer_id" {}\n'},
                              "terraform/module-source", 2, "outside the allowed roots"),
    "remote host not allowed": ({"customers/acme/terraform/main.tf": call(
        "git::https://git.example.com/modules.git?ref=v1.0.0", "")},
        "terraform/module-source", 2, "not allowed"),
    "registry without version": ({"customers/acme/terraform/main.tf": call("terraform-aws-modules/vpc/aws", ""),
                                  ".gitops-checks.yaml": REGISTRY_ALLOWED},
                                 "terraform/module-source", 2, "without a version"),
    "registry version range": ({"customers/acme/terraform/main.tf": call(
        "terraform-aws-modules/vpc/aws", '  version = "~> 5.0"\n'), ".gitops-checks.yaml": REGISTRY_ALLOWED},
        "terraform/module-source", 3, "is a range"),
    "version on a local source": ({"customers/acme/terraform/main.tf": call(
        body='  version = "1.0.0"\n  customer_id = "a"\n')}, "terraform/module-source", 3, "only valid for registry"),
    "duplicate module names": ({"customers/acme/terraform/main.tf": call(),
                                "customers/acme/terraform/more.tf": call()},
                               "terraform/structure", 1, "declared twice"),
    "provider in a shared module": ({f"{MODULE}/providers.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\n'},
                                    "terraform/structure", 1, "configures provider"),
    "backend in a shared module": ({f"{MODULE}/backend.tf": 'terraform {\n  backend "s3" {}\n}\n'},
                                   "terraform/structure", 2, "configures a backend"),
    "two backends for one customer": ({
        "customers/acme/terraform/a.tf": 'terraform {\n  backend "s3" {\n    key = "a"\n  }\n}\n',
        "customers/acme/terraform/b.tf": 'terraform {\n  backend "s3" {\n    key = "b"\n  }\n}\n'},
        "terraform/structure", 2, "more than one backend"),
    "colliding state keys": ({
        "customers/acme/terraform/a.tf": 'terraform {\n  backend "s3" {\n    bucket = "t"\n    key = "k"\n  }\n}\n',
        "customers/globex/terraform/a.tf":
            'terraform {\n  backend "s3" {\n    bucket = "t"\n    key = "k"\n  }\n}\n'},
        "terraform/structure", 4, "collides"),
    "syntax error": ({"customers/acme/terraform/main.tf": 'module "db" {\n  source = "x"\n'},
                     "terraform/syntax", 3, "unexpected end of file"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_rule_catches_its_planted_fault_at_its_line(tmp_path: Path, name: str):
    files, check, line, fragment = FAULTS[name]
    configs = tf_repo(tmp_path, files)
    code, report = tf_findings(tmp_path, configs)
    assert code == 1
    found = findings_of(report, check)
    assert len(found) == 1, report["findings"]
    assert found[0]["line"] == line and fragment in found[0]["message"]
    # and nothing else fires (a syntax error hides nothing else: the file is simply not used)
    assert [f["check"] for f in report["findings"]] == [check]


# tflint's terraform_module_pinned_source documentation, as a table (flexible and our default style)
TFLINT = [
    ("git://hashicorp.com/consul.git", "not pinned", "not pinned"),
    ("git://hashicorp.com/consul.git?ref=master", "default branch", "default branch"),
    ("hg::http://hashicorp.com/consul.hg?rev=default", "default branch", "default branch"),
    ("git://hashicorp.com/consul.git?ref=feature", None, "looks like a branch"),
    ("git::https://hashicorp.com/consul.git?ref=v1.2.0", None, None),
    ("github.com/hashicorp/consul?ref=0123456789abcdef0123456789abcdef01234567", None, None),
    ("bitbucket.org/hashicorp/consul", "not pinned", "not pinned"),
    ("git@github.com:hashicorp/consul.git?ref=develop", "default branch", "default branch"),
]


@pytest.mark.parametrize("source, flexible, default_policy", TFLINT)
def test_tflint_pinned_source_examples(tmp_path: Path, source, flexible, default_policy):
    host = classify_source(source).host
    for policy, expected in (("flexible", flexible), ("tag-or-sha", default_policy)):
        configs = tf_repo(tmp_path / policy, {
            "customers/acme/terraform/main.tf": call(source, ""),
            ".gitops-checks.yaml": "checks:\n  options:\n    terraform/module-source:\n"
                                   f"      allowed_hosts: [{host}]\n      pinning: {policy}\n"})
        code, report = tf_findings(tmp_path / policy, configs, "--check", "terraform/module-source")
        assert code == (0 if expected is None else 1)
        messages = [f["message"] for f in findings_of(report, "terraform/module-source")]
        if expected is None:
            assert messages == [], (policy, messages)
        else:
            assert len(messages) == 1 and expected in messages[0], (policy, messages)


def test_subdir_after_ref_and_version_on_git(tmp_path: Path):
    configs = tf_repo(tmp_path, {
        "customers/acme/terraform/main.tf": call("git::https://git.example.com/m.git?ref=v1.0.0//vpc",
                                                 '  version = "1.0.0"\n'),
        ".gitops-checks.yaml": "checks:\n  options:\n    terraform/module-source:\n"
                               "      allowed_hosts: [git.example.com]\n"})
    code, report = tf_findings(tmp_path, configs)
    messages = sorted(f["message"] for f in findings_of(report, "terraform/module-source"))
    assert code == 1 and len(messages) == 2
    assert "//subdirectory must come before ?ref=" in messages[0] + messages[1]
    assert "version is only valid for registry" in messages[0] + messages[1]


def test_examples_are_clean(tmp_path: Path):
    configs, _ = copy_examples(tmp_path)
    code, report = tf_findings(tmp_path, configs)
    assert code == 0 and report["findings"] == []


def test_syntax_errors_name_what_is_wrong_and_where():
    cases = {
        'variable "x" {\n  default = [1, 2\n}\n': ("missing ]", 3),
        'resource "a" "b" {\n  x = = 1\n}\n': ("unexpected input", 2),
        'module "m" {\n  source = "abc\n}\n': ("unexpected end of file", 4),
        "a {" * 200 + "}" * 200: ("nested deeper than 64", 1),
    }
    for text, (fragment, line) in cases.items():
        tf = parse_hcl("main.tf", text)
        assert tf.error is not None and fragment in tf.error[0] and tf.error[1] == line, (text[:30], tf.error)
        assert tf.blocks == []


def test_a_pr_colliding_with_a_customer_out_of_scope_is_caught(tmp_path: Path):
    # in PR mode the other customers' backends are only pattern-scanned, all read in one exchange
    backend = 'terraform {{\n  backend "s3" {{\n    bucket = "t"\n    key = "{key}"\n  }}\n}}\n'
    configs = tf_repo(tmp_path, {f"customers/c{i}/terraform/main.tf": backend.format(key=f"k{i}") for i in range(30)})
    init_repo(configs)
    (configs / "customers/c7/terraform/main.tf").write_text(backend.format(key="k21"))
    commit_all(configs, "c7 takes c21's state key")
    code, report = tf_findings(tmp_path, configs, "--base", "HEAD~1", "--head", "HEAD")
    found = findings_of(report, "terraform/structure")
    assert code == 1 and [(f["path"], f["line"]) for f in found] == [("customers/c7/terraform/main.tf", 4)]
    assert "collides with customer c21" in found[0]["message"]


def _tf_texts() -> list[str]:
    from helpers import EXAMPLES

    roots = [DATA, EXAMPLES, Path("/work/shared/corpus/terraform")]
    paths = sorted({p for root in roots if root.exists() for p in root.rglob("*.tf")})
    return [p.read_bytes().decode("utf-8", "replace") for p in paths]


def _same_as_tree_sitter(text: str) -> bool | None:
    """None: the line reader leaves the file to tree-sitter; else whether both read it alike."""
    from checks.engines.terraform import dump_hcl, parse_hcl_tree_sitter, quick_hcl

    quick = quick_hcl("main.tf", text)
    if quick is None:
        return None
    full = parse_hcl_tree_sitter("main.tf", text)
    return full.error is None and dump_hcl(quick) == dump_hcl(full)


def test_plain_files_are_read_line_by_line_as_tree_sitter_reads_them():
    """The line reader accepts only the plain layout, and reads it as tree-sitter does: on every
    .tf file of the examples, tests/data and the corpus, and on 4,000 mutations of them."""
    import random

    texts = _tf_texts()
    verdicts = [_same_as_tree_sitter(t) for t in texts]
    assert False not in verdicts
    assert verdicts.count(True) >= 10  # the examples' customer files are plain
    rnd = random.Random(20)  # noqa: S311 - a seeded sample
    tokens = ["{", "}", '"', "=", "?", ":", "\n", "#", "//", " ", "\t", "==", "null", "for", "in", "-", ".", "1",
              '"x"', "var.x", "= {\n", "}\n", "x {\n", "[", ",", "$", "\\", "a = 1\n", "\r", "é", "_", "/*", "<<EOF"]
    plain = [t for t, v in zip(texts, verdicts, strict=True) if v] + [
        'module "db" {\n  source = "../../../shared/db"\n  labels = {\n    tier = var.tier\n  }\n'
        '  size = var.tier == "gold" ? 100 : 20\n  x = null\n}\n']
    accepted = 0
    for _ in range(4000):
        text = rnd.choice(plain)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(text) + 1)
            text = text[:at] + rnd.choice(tokens) + text[at:] if rnd.random() < 0.6 else \
                text[:at] + text[at + rnd.randint(1, 4):]
        verdict = _same_as_tree_sitter(text)
        assert verdict is not False, text
        accepted += verdict is True
    assert accepted > 500


@pytest.mark.parametrize("text", [
    'a {\n  b = "x "\n}\n',  # tree-sitter-hcl leaves a string's edge spaces out of its text
    'a {\n  b = "${var.x}"\n}\n', 'a {\n  b = "x\\ny"\n}\n', 'a {\n  b = 1 # note\n}\n',
    'a "x" { b = 1 }\n', 'a {\n  b = f(1)\n}\n', 'a {\n  b = <<EOF\nx\nEOF\n}\n', 'a {\n  b = [1]\n}\n',
    'a {\n  b = {\n    c = {\n    }\n  }\n}\n', 'a {\n  for = 1\n}\n', 'a {\n  b = 1\n', 'a {\n  b = 1\n}\n}\n',
    'a {\n  b = 1\n}', 'a {\r\n  b = 1\r\n}\r\n', 'a {\n  b = "é"\n}\n', 'a {\n  b-c = 1\n}\n', '/* x */\n',
    "a {\n" * 70 + "}\n" * 70,
])
def test_anything_but_the_plain_layout_is_left_to_tree_sitter(text: str):
    from checks.engines.terraform import quick_hcl

    assert quick_hcl("main.tf", text) is None
    parse_hcl("main.tf", text)  # read by tree-sitter: a result or a syntax finding, never a crash
