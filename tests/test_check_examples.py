"""Every check's `Passes:` / `Fails:` docstring examples (what `python -m checks explain ID` prints) are
harvested and run: each is written where it belongs in a small, otherwise valid layout (one customer,
two products, Terraform, a chart, and for `appset/*` one ApplicationSet), only that check runs with the
default settings, and a passing example must give no finding of that check, a failing one at least one.

An example is a snippet that PLACES puts into one file of the layout, or files written in the fixture
language of tests/example_fixture.py (`-- path --` headers: several files, both repositories,
symlinks, submodules, encodings, sizes, a pull request), or a snippet followed by such files. A check
may show several `Fails:` examples; each one runs. Every check has at least one of each, all runnable."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from example_fixture import CONFIGS, INFRA, Fixture, is_fixture, parse, write
from helpers import commit_all, git, init_repo, run_json, write_tree

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
APPSET_FILE = "applicationsets/customers.yaml"
# Pattern 1 of the architecture: one Application per customer and product, from the two repositories
APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: customers, namespace: argocd}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        files: [{path: "customers/*/*/values.yaml"}]
  template:
    metadata:
      name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}'
    spec:
      project: default
      sources:
        - repoURL: http://localhost:7990/scm/test/platform-infrastructure.git
          targetRevision: main
          path: 'products/{{ index .path.segments 2 }}'
          helm:
            valueFiles:
              - '$values/products/{{ index .path.segments 2 }}/base-values.yaml'
              - '$values/{{ .path.path }}/values.yaml'
        - repoURL: http://localhost:7990/scm/test/customer-configs.git
          targetRevision: main
          ref: values
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{ index .path.segments 1 }}'
"""
# the same for the production environment only (Pattern 2 with one element)
APPSET_PROD = APPSET.replace("""  generators:
    - git:
        repoURL: http://localhost:7990/scm/test/customer-configs.git
        revision: main
        files: [{path: "customers/*/*/values.yaml"}]""", """  generators:
    - matrix:
        generators:
          - git:
              repoURL: http://localhost:7990/scm/test/customer-configs.git
              revision: main
              files: [{path: "customers/*/*/values.yaml"}]
          - list:
              elements: [{env: prod}]""").replace(
    "index .path.segments 2 }}'\n    spec", "index .path.segments 2 }}-{{ .env }}'\n    spec")

# check id -> where its snippet goes: a path (the snippet is the file), (path, template with {snippet}),
# or ("appset"/"appset-prod", key path): the snippet, a YAML mapping, deep-merged into the ApplicationSet there
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
    "consistency/missing-values": "customers/acme/products.yaml",
    "consistency/orphan-config": "customers/acme/products.yaml",
    "consistency/names": "customers/acme/products.yaml",
    "schema/products": "customers/acme/products.yaml",
    "consistency/environments": ("customers/acme/products.yaml", "products:\n- name: billing\n  {snippet}\n"),
    "schema/metadata": "customers/acme/metadata.yaml",
    "consistency/metadata": "customers/acme/metadata.yaml",
    "schema/schema": "products/billing/values.schema.json",
    "terraform/syntax": "customers/acme/terraform/main.tf",
    "terraform/module-arguments": "customers/acme/terraform/main.tf",
    "terraform/module-source": "customers/acme/terraform/main.tf",  # one module block per `source = ...` line
    "policy/rego": "customers/acme/billing/environments/{env}.yaml",  # `prod: ...`
    "secrets/sops-config": ".sops.yaml",
    "schema/values": "layers",  # `base: {...}   customer prod: {...}`
    "consistency/value-type-conflict": "layers",
    "appset/chart-path": ("appset", "spec.template.spec.sources.0"),
    "appset/namespace": ("appset", "spec.template.spec.destination"),
    "appset/template": ("appset", "spec.template.metadata"),
    "appset/generators": ("appset", "spec.generators.0.git"),
    "appset/schema": ("appset", "spec"),
    "appset/crd": ("appset", "spec.template"),
    "appset/unique-names": ("appset", "spec.template.metadata"),
    "appset/value-files": ("appset", "spec.template.spec.sources.0.helm"),
    "appset/value-order": ("appset", "spec.template.spec.sources.0.helm"),
    "appset/deployed-values": ("appset", "spec.template.spec.sources.0.helm"),
    "appset/deployed-policy": ("appset-prod", "spec.template.spec.sources.0.helm"),
    "appset/value-revision": ("appset", "spec.template.spec.sources.1"),
    "appset/deployed-secrets": ("appset", "spec.template.spec.sources.1"),
    "appset/coverage": "customers/acme/products.yaml",
    "appset/prod-auto-sync": ("appset-prod", "spec.template.spec"),
}
LAYERS = {"base": "products/billing/base-values.yaml", "customer": "customers/acme/billing/values.yaml",
          "customer prod": "customers/acme/billing/environments/prod.yaml"}


def harvest(doc: str) -> list[tuple[str, str]]:
    """`Passes:` / `Fails:` blocks in order: the text after the label and the lines indented under it,
    with a trailing `(note)` after three or more spaces removed."""
    out: list[tuple[str, str]] = []
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
        out.append((m.group(1), "\n".join(re.sub(r"\s{3,}\(.*\)\s*$", "", b).rstrip() for b in block)))
    return out


def examples() -> list[tuple[str, str, str]]:
    return [(cid, kind, text) for cid, cls in all_checks().items() for kind, text in harvest(cls.doc())]


def _merge(into: Any, patch: Any) -> Any:
    """Mappings merged key by key; anything else replaced."""
    if isinstance(into, dict) and isinstance(patch, dict):
        return {**into, **{k: _merge(into.get(k), v) for k, v in patch.items()}}
    return patch


def _appset(base: str, key_path: str, snippet: str) -> str:
    doc = yaml.safe_load(base)
    node = doc
    for key in key_path.split("."):
        node = node[int(key)] if isinstance(node, list) else node[key]
    patch = yaml.safe_load(snippet)
    assert isinstance(patch, dict), f"an ApplicationSet example is a YAML mapping: {snippet!r}"
    node.update(_merge(node, patch))
    return yaml.safe_dump(doc, sort_keys=False)


def _snippet_files(cid: str, snippet: str) -> dict[str, str]:
    """customer-configs files (and `infra:` ones) for a snippet, by PLACES."""
    place = PLACES[cid]
    if isinstance(place, tuple) and place[0] in ("appset", "appset-prod"):
        base = APPSET if place[0] == "appset" else APPSET_PROD
        return {f"infra:{APPSET_FILE}": _appset(base, place[1], snippet)}
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


def split(text: str) -> tuple[str, Fixture]:
    """An example's snippet (the lines before the first `-- path --` header) and its fixture files."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if is_fixture(line)), len(lines))
    return "\n".join(lines[:first]).strip("\n"), parse("\n".join(lines[first:]))


def signing_key(tmp: Path) -> tuple[Path, str]:
    key = tmp / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "example", "-f", str(key)], check=True)
    return key, f"test@example.com {(tmp / 'id_ed25519.pub').read_text().strip()}"


def build(tmp: Path, cid: str, text: str) -> tuple[Path, Path, Fixture]:
    """Both repositories for one example: the layout, the snippet in its place, the fixture's files."""
    snippet, fixture = split(text)
    configs, infra = tmp / CONFIGS, tmp / INFRA
    extra = _snippet_files(cid, snippet) if snippet else {}
    if cid.startswith("appset/") and f"infra:{APPSET_FILE}" not in extra and not any(
            f.repo == INFRA and f.path == APPSET_FILE.encode() for f in fixture.files()):
        extra[f"infra:{APPSET_FILE}"] = APPSET
    write_tree(configs, {**LAYOUT_CONFIGS, **{k: v for k, v in extra.items() if not k.startswith("infra:")}})
    write_tree(infra, {**LAYOUT_INFRA, **{k[6:]: v for k, v in extra.items() if k.startswith("infra:")}})
    key, signers = signing_key(tmp) if fixture.signed else (None, None)
    roots = {CONFIGS: configs, INFRA: infra}
    for spec in fixture.base:
        write(roots[spec.repo], spec, signers)
    if fixture.git_mode or fixture.pull_request is not None:
        init_repo(configs)
        for spec in fixture.base:
            if spec.submodule and spec.repo == CONFIGS:
                git(configs, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},{os.fsdecode(spec.path)}")
        git(configs, "commit", "-q", "--amend", "--no-edit")
    if fixture.pull_request is not None:
        git(configs, "checkout", "-q", "-b", "pull-request")
        for spec in fixture.pull_request:
            write(roots[spec.repo], spec, signers)
        if key is None:
            commit_all(configs, "the pull request")
        else:
            git(configs, "add", "-A")
            git(configs, "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S",
                "-m", "the pull request, signed")
    return configs, infra, fixture


def run_one(tmp: Path, cid: str, text: str) -> list[str]:
    """The findings of check `cid` alone on the example, as `path:line message`."""
    configs, infra, fixture = build(tmp, cid, text)
    if fixture.pull_request is not None:  # PR mode: the real command line, as CI runs it
        code, report, proc = run_json("--configs", configs, "--infra", infra, "--base", "main", "--head", "HEAD",
                                      "--check", cid, tmp=tmp)
        assert code in (0, 1), proc.stderr
        return [f"{f.get('path')}:{f.get('line')} {f['message']}" for f in report["findings"] if f["check"] == cid]
    with repos(configs, infra, None, "HEAD" if fixture.git_mode else None) as (_, sources, settings):
        cls = all_checks()[cid]
        ctx = Context(settings, sources, DocumentStore(sources, settings.limits))
        result = run_checks(ctx, [cls(settings.check_options(cid))], workers=False)
    return [f"{f.path}:{f.line} {f.message}" for f in result.findings if f.check == cid]


def test_every_check_shows_a_runnable_passing_and_failing_example():
    by_check: dict[str, set[str]] = {}
    for cid, kind, text in examples():
        snippet, _ = split(text)
        assert not snippet or cid in PLACES, f"{cid}: a snippet with no place in PLACES: {snippet!r}"
        by_check.setdefault(cid, set()).add(kind)
    assert {cid: kinds for cid, kinds in by_check.items() if kinds != {"Passes", "Fails"}} == {}
    assert set(by_check) == set(all_checks()), "a check shows no example"


@pytest.mark.parametrize("cid, kind, text", examples(), ids=lambda v: str(v).split("\n")[0][:40])
def test_docstring_example(tmp_path: Path, cid: str, kind: str, text: str):
    found = run_one(tmp_path, cid, text)
    if kind == "Passes":
        assert found == [], f"{cid}'s passing example fails under the default settings: {found}"
    else:
        assert found, f"{cid}'s failing example passes: {text!r}"
