"""Every check's `Passes:` / `Fails:` docstring examples (what `python -m checks explain ID` prints) are
harvested and run: each snippet is written where it belongs in a small, otherwise valid layout (one
customer, two products, Terraform, a chart), only that check runs with the default settings, and a
passing example must give no finding of that check, a failing one at least one.

Examples that describe a situation in words ("a 50 MB values file", "two ApplicationSets both
generating ...") cannot be written into a file as they stand: they are listed in PROSE with the
reason, and the test fails when a check has neither a runnable example nor an entry there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import write_tree

from checks.cli.common import repos
from checks.repo.documents import DocumentStore
from checks.runner.registry import all_checks
from checks.runner.run import Context, run_checks

LAYOUT_CONFIGS = {
    "customers/acme/metadata.yaml": "id: acme\nname: Acme Corp\n",
    "customers/acme/products.yaml": "products:\n- name: billing\n- name: search\n",
    "customers/acme/billing/values.yaml": "replicaCount: 2\n",
    "customers/acme/search/values.yaml": "replicaCount: 2\n",
    "customers/acme/terraform/main.tf": 'module "db" {\n  source      = "../../../shared/terraform-modules/database"\n'
                                        "  customer_id = var.customer_id\n}\n",
    "customers/acme/terraform/variables.tf": 'variable "customer_id" {\n  type = string\n}\n',
    "shared/terraform-modules/database/variables.tf": 'variable "customer_id" {\n  type = string\n}\n',
    "shared/terraform-modules/database/main.tf": "# a database\n",
    # complete, pinned, sized: policies judge an example on what it is about
    "products/billing/base-values.yaml": "replicaCount: 1\nimage:\n  repository: registry.example.com/billing\n"
                                        "  tag: 2.14.3\nresources:\n  requests: {cpu: 50m, memory: 64Mi}\n"
                                        "  limits: {cpu: 200m, memory: 256Mi}\nlogLevel: info\n",
    "products/billing/values.schema.json": json.dumps({"type": "object", "properties": {
        "replicaCount": {"type": "integer", "minimum": 1}}}),
    "products/search/base-values.yaml": "replicaCount: 1\nimage:\n  repository: registry.example.com/search\n"
                                       "  tag: 5.2.0\nresources:\n  requests: {cpu: 50m, memory: 64Mi}\n"
                                       "  limits: {cpu: 200m, memory: 256Mi}\n",
    "products/search/values.schema.json": json.dumps({"type": "object"}),
    "customers/acme/terraform/modules/network/main.tf": "# the customer's own module\n",
}
LAYOUT_INFRA = {
    "products/billing/Chart.yaml": "apiVersion: v2\nname: billing\nversion: 1.0.0\n",
    "products/billing/values.yaml": "replicaCount: 1\n",
    "products/search/Chart.yaml": "apiVersion: v2\nname: search\nversion: 1.0.0\n",
    "products/search/values.yaml": "replicaCount: 1\n",
}

CONFIG_FILE = "customers/acme/configs/example.yaml"
# check id -> where its snippet goes: a path (the snippet is the file), or (path, template with {snippet})
PLACES: dict[str, str | tuple[str, str]] = {
    "yaml/syntax": CONFIG_FILE,
    "yaml/duplicate-key": CONFIG_FILE,
    "yaml/unsafe-tag": CONFIG_FILE,
    "yaml/unknown-tag": CONFIG_FILE,
    "yaml/not-a-mapping": "customers/acme/billing/values.yaml",
    "yaml/limits": CONFIG_FILE,
    "secrets/plaintext": CONFIG_FILE,
    "consistency/subscriptions": "customers/acme/products.yaml",
    "consistency/unknown-product": "customers/acme/products.yaml",
    "schema/products": "customers/acme/products.yaml",
    "consistency/environments": ("customers/acme/products.yaml", "products:\n- name: billing\n  {snippet}\n"),
    "schema/metadata": "customers/acme/metadata.yaml",
    "schema/schema": "products/billing/values.schema.json",
    "terraform/syntax": "customers/acme/terraform/main.tf",
    "terraform/module-arguments": "customers/acme/terraform/main.tf",
    "terraform/module-source": "customers/acme/terraform/main.tf",  # one module block per `source = ...` line
    "policy/rego": "customers/acme/billing/environments/{env}.yaml",  # `prod: ...`
    "secrets/sops-config": ".sops.yaml",
    "schema/values": "layers",  # `base: {...}   customer prod: {...}`
    "consistency/value-type-conflict": "layers",
}
LAYERS = {"base": "products/billing/base-values.yaml", "customer": "customers/acme/billing/values.yaml",
          "customer prod": "customers/acme/billing/environments/prod.yaml"}

# (check id, "Passes" | "Fails") -> why the example is words, not a file
PROSE = {
    ("yaml/limits", "Fails"): "the bomb is abbreviated: '... (nine more levels)'",
    ("yaml/encoding", "Passes"): "describes bytes", ("yaml/encoding", "Fails"): "describes bytes",
    ("yaml/too-large", "Passes"): "a size", ("yaml/too-large", "Fails"): "a size",
    ("yaml/symlink", "Passes"): "a symlink", ("yaml/symlink", "Fails"): "a symlink",
    ("schema/values", "Fails"): "the schema part is prose ('replicaCount minimum 1')",
    ("consistency/metadata", "Passes"): "a layout", ("consistency/metadata", "Fails"): "a layout",
    ("consistency/missing-values", "Passes"): "a layout", ("consistency/missing-values", "Fails"): "a layout",
    ("consistency/names", "Passes"): "a folder name", ("consistency/names", "Fails"): "a folder name",
    ("consistency/orphan-config", "Passes"): "a layout", ("consistency/orphan-config", "Fails"): "a layout",
    ("consistency/product-pairing", "Passes"): "a layout", ("consistency/product-pairing", "Fails"): "a layout",
    ("secrets/encryption", "Passes"): "needs a complete sops block", ("secrets/encryption", "Fails"): "idem",
    ("secrets/sops-recipients", "Passes"): "two files", ("secrets/sops-recipients", "Fails"): "two files",
    ("terraform/structure", "Passes"): "a folder and a block", ("terraform/structure", "Fails"): "idem",
    ("policy/syntax", "Passes"): "a Rego fragment", ("policy/syntax", "Fails"): "a Rego fragment",
    ("policy/engine", "Passes"): "a situation", ("policy/engine", "Fails"): "a situation",
    ("git/unsigned-commit", "Passes"): "a git command", ("git/unsigned-commit", "Fails"): "a git command",
    ("git/file-name", "Passes"): "a file name", ("git/file-name", "Fails"): "a file name",
    ("git/submodule", "Passes"): "a git tree entry", ("git/submodule", "Fails"): "a git tree entry",
    ("git/gate-change", "Passes"): "a pull request", ("git/gate-change", "Fails"): "a pull request",
    ("git/symlink", "Passes"): "a symlink", ("git/symlink", "Fails"): "a symlink",
    **{(cid, kind): "an ApplicationSet fragment" for cid in (
        "appset/chart-path", "appset/coverage", "appset/crd", "appset/deployed-values", "appset/generators",
        "appset/namespace", "appset/prod-auto-sync",
        "appset/schema", "appset/template",
        "appset/unique-names", "appset/value-files", "appset/value-order") for kind in ("Passes", "Fails")},
}


def harvest(doc: str) -> dict[str, str]:
    """`Passes:` / `Fails:` blocks: the text after the label and the lines indented under it, with the
    trailing `(note)` after three or more spaces removed."""
    out: dict[str, str] = {}
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(Passes|Fails):(\s+)(.*)$", line)
        if not m:
            continue
        indent = len(m.group(1)) + 1 + len(m.group(2))
        block = [m.group(3)]
        for more in lines[i + 1:]:
            if not more.strip() or not more.startswith(" " * indent) or re.match(r"^(Passes|Fails):", more):
                break
            block.append(more[indent:])
        out[m.group(1)] = "\n".join(re.sub(r"\s{3,}\(.*\)\s*$", "", b).rstrip() for b in block)
    return out


def examples() -> list[tuple[str, str, str]]:
    found = []
    for cid, cls in all_checks().items():
        for kind, snippet in harvest(cls.doc()).items():
            found.append((cid, kind, snippet))
    return found


def _files_for(cid: str, snippet: str) -> dict[str, str]:
    place = PLACES[cid]
    if place == "layers":
        files = {}
        for label, flow in re.findall(r"(customer prod|customer|base):\s*(\{.*?\})(?=\s{2,}|$)", snippet):
            files[LAYERS[label]] = flow + "\n"
        assert files, snippet
        return files
    if cid == "policy/rego":
        env, _, body = snippet.partition(": ")
        return {place.format(env=env): body + "\n"}
    if cid == "terraform/module-source":
        blocks = [f'module "m{i}" {{\n  {line.strip()}\n}}\n' for i, line in enumerate(snippet.splitlines())]
        return {place: "".join(blocks)}
    if isinstance(place, tuple):
        return {place[0]: place[1].format(snippet=snippet)}
    return {place: snippet + "\n"}


def run_one(tmp: Path, cid: str, files: dict[str, str]) -> list[str]:
    configs, infra = tmp / "customer-configs", tmp / "platform-infrastructure"
    write_tree(configs, {**LAYOUT_CONFIGS, **files})
    write_tree(infra, LAYOUT_INFRA)
    with repos(configs, infra, None, None) as (_, sources, settings):
        cls = all_checks()[cid]
        ctx = Context(settings, sources, DocumentStore(sources, settings.limits))
        result = run_checks(ctx, [cls(settings.check_options(cid))], workers=False)
    return [f"{f.path}:{f.line} {f.message}" for f in result.findings if f.check == cid]


def test_every_check_has_runnable_examples_or_says_why_not():
    runnable = {cid for cid, _, _ in examples() if cid in PLACES}
    missing = [(cid, kind) for cid, kind, _ in examples() if cid not in PLACES and (cid, kind) not in PROSE]
    assert not missing, f"examples neither runnable nor listed as prose: {missing}"
    assert len(runnable) >= 20
    for cid, cls in all_checks().items():
        assert set(harvest(cls.doc())) == {"Passes", "Fails"}, f"{cid} shows no Passes/Fails example"


@pytest.mark.parametrize("cid, kind, snippet", [e for e in examples() if e[0] in PLACES and (e[0], e[1]) not in PROSE],
                         ids=lambda v: str(v).split("\n")[0][:40])
def test_docstring_example(tmp_path: Path, cid: str, kind: str, snippet: str):
    found = run_one(tmp_path, cid, _files_for(cid, snippet))
    if kind == "Passes":
        assert found == [], f"{cid}'s passing example fails under the default settings: {found}"
    else:
        assert found, f"{cid}'s failing example passes: {snippet!r}"
