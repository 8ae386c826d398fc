"""appset/*: ArgoCD's own generator examples and a real control-plane template (tests/data/applicationsets,
sources in SOURCES.tsv), the bundled examples' five patterns, planted faults, and the globbing trap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import (
    DATA,
    EXAMPLES,
    commit_all,
    copy_examples,
    findings_of,
    git,
    init_repo,
    run_cli,
    run_json,
    write_tree,
)

from checks.core.settings import Settings
from checks.model.platform import Model
from checks.repo.documents import DocumentStore, Limits, parse_yaml_text
from checks.repo.source import WorkingTreeSource

APPSETS = DATA / "applicationsets"
ARGO = APPSETS / "argoproj_argo-cd" / "applicationset" / "examples"
ARGO_URL = "https://github.com/argoproj/argo-cd.git"


def test_every_corpus_applicationset_parses_and_is_emulated():
    from checks.engines.appsets import AppSet, Emulator, default_repo_for_url, is_appset

    files = sorted(APPSETS.rglob("*.yaml"))
    assert len(files) >= 20
    appsets = 0
    for path in files:
        docs, problems = parse_yaml_text(path.read_text(), Limits())
        assert not [p for p in problems if p.fatal], (path, problems)
        for i, doc in enumerate(docs):
            if is_appset(doc.value):
                appsets += 1
                emulator = Emulator(DocumentStore({}, Limits()), default_repo_for_url({}))
                gen = emulator.generate(AppSet("platform-infrastructure", path.name, doc, i))
                # repositories are not given here: git generators are reported, never guessed
                assert gen.apps or gen.problems
    assert appsets >= 15


def argo_repos(tmp: Path, example: str) -> tuple[Path, Path]:
    """customer-configs stands in for the argo-cd repository the examples point at."""
    configs = tmp / "argo"
    shutil.copytree(APPSETS / "argoproj_argo-cd", configs)
    infra = tmp / "infra"
    write_tree(infra, {f"applicationsets/{Path(example).name}": (ARGO / example).read_text()})
    write_tree(configs, {".gitops-checks.yaml": f"appsets:\n  repos:\n    {ARGO_URL}: customer-configs\n"})
    return configs, infra


def app_names(configs: Path, infra: Path) -> list[str]:
    proc = run_cli("apps", "--configs", configs, "--infra", infra, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return sorted(a["name"] for a in json.loads(proc.stdout)["applications"])


def test_git_files_example_generates_one_app_per_cluster_config(tmp_path: Path):
    configs, infra = argo_repos(tmp_path, "git-generator-files-discovery/git-generator-files.yaml")
    # the docs: one guestbook per cluster config, named from the file's cluster.name
    assert app_names(configs, infra) == ["engineering-dev-guestbook", "engineering-prod-guestbook"]


def test_git_directories_examples_with_and_without_excludes(tmp_path: Path):
    configs, infra = argo_repos(tmp_path, "git-generator-directory/git-directories-example.yaml")
    addons = ARGO / "git-generator-directory" / "cluster-addons"
    for name in ("argo-workflows", "prometheus-operator"):
        write_tree(configs, {f"applicationset/examples/git-generator-directory/cluster-addons/{name}/x.yaml": "a: 1\n"})
    assert not addons.exists()  # built here: the corpus holds only the ApplicationSet
    assert app_names(configs, infra) == ["argo-workflows", "prometheus-operator"]
    configs, infra = argo_repos(tmp_path / "ex",
                                "git-generator-directory/excludes/git-directories-exclude-example.yaml")
    for name in ("argo-workflows", "helm-guestbook"):
        write_tree(configs, {f"applicationset/examples/git-generator-directory/excludes/cluster-addons/{name}/x.yaml":
                             "a: 1\n"})
    # the excluded directory exists in the corpus and is left out, as the docs say
    assert app_names(configs, infra) == ["argo-workflows", "helm-guestbook"]


def test_matrix_of_git_directories_and_a_list(tmp_path: Path):
    configs, infra = argo_repos(tmp_path, "matrix/list-and-git.yaml")
    for name in ("argo-workflows", "prometheus-operator"):
        write_tree(configs, {f"applicationset/examples/matrix/cluster-addons/{name}/x.yaml": "a: 1\n"})
    # application_count = git directories x list entries
    assert app_names(configs, infra) == ["argo-workflows-engineering-dev", "argo-workflows-engineering-prod",
                                         "prometheus-operator-engineering-dev", "prometheus-operator-engineering-prod"]


def test_bundled_examples_generate_exactly_what_products_yaml_implies():
    configs, infra = EXAMPLES / "customer-configs", EXAMPLES / "platform-infrastructure"
    proc = run_cli("apps", "--configs", configs, "--infra", infra, "--format", "json")
    data = json.loads(proc.stdout)
    assert data["incomplete"] == []
    sources = {"customer-configs": WorkingTreeSource(configs, "customer-configs")}
    units = Model(DocumentStore(sources, Limits()), Settings().environments).units()
    pairs = {(u.customer, u.product) for u in units}
    by_set: dict[str, set[str]] = {}
    for app in data["applications"]:
        by_set.setdefault(app["applicationset"], set()).add(app["name"])
    assert by_set["product-customer-matrix"] == {f"{c}-{p}" for c, p in pairs}
    assert by_set["multi-environment"] == {f"{u.customer}-{u.product}-{u.environment}" for u in units}
    assert by_set["subscription-based"] == {f"{c}-{p}-subscribed" for c, p in pairs}
    assert by_set["with-secrets"] == {f"{c}-{p}-secure" for c, p in pairs}
    assert by_set["customer-terraform"] == {f"{c}-terraform" for c, _ in pairs}


APPSET = "applicationsets/01-product-customer-matrix.yaml"
BASE_VF = "'$values/products/{{ index .path.segments 2 }}/base-values.yaml'"
CUST_VF = "'$values/{{ .path.path }}/values.yaml'"


@pytest.mark.parametrize("old, new, check, severity", [
    ('- path: "customers/*/*/values.yaml"', '- path: "customer/*/*/values.yaml"', "appset/generators", "warning"),
    ("/values.yaml'", "/value.yaml'", "appset/value-files", "error"),
    ("path: 'products/{{ index .path.segments 2 }}'", "path: 'charts/{{ index .path.segments 2 }}'",
     "appset/chart-path", "error"),
    ("namespace: '{{ index .path.segments 1 }}'", "namespace: default", "appset/namespace", "error"),
    ("name: '{{ index .path.segments 1 }}-{{ index .path.segments 2 }}'", "name: '{{ .customer }}'",
     "appset/template", "error"),
    (f"- {BASE_VF}\n              - {CUST_VF}", f"- {CUST_VF}\n              - {BASE_VF}",
     "appset/value-order", "notice"),
    ("  generators:\n", "  generator:\n", "appset/schema", "error"),
])
def test_planted_faults_are_reported_at_the_template_line(tmp_path: Path, old, new, check, severity):
    configs, infra = copy_examples(tmp_path)
    path = infra / APPSET
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    line = text[: text.index(old)].count("\n") + 1
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset", tmp=tmp_path)
    found = findings_of(report, check)
    assert found and all(f["severity"] == severity for f in found)
    assert found[0]["path"] == APPSET and found[0]["line"] is not None
    if check in ("appset/chart-path", "appset/namespace", "appset/generators"):
        assert found[0]["line"] == line
    assert code == (1 if severity == "error" else 0)


def test_duplicate_names_across_applicationsets(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    path = infra / "applicationsets/04-with-secrets.yaml"
    path.write_text(path.read_text().replace("-secure'", "'"))
    code, report, _ = run_json("--configs", configs, "--infra", infra, "--check", "appset", tmp=tmp_path)
    (f,) = findings_of(report, "appset/unique-names")
    assert code == 1 and "product-customer-matrix" in f["message"]
    assert f["path"] == "applicationsets/04-with-secrets.yaml"


def test_default_globbing_lets_star_cross_slashes(tmp_path: Path):
    from checks.repo.globs import glob_match

    deep = "customers/acme/billing/charts/sub/values.yaml"
    assert glob_match("customers/*/*/values.yaml", deep, "legacy")
    assert not glob_match("customers/*/*/values.yaml", deep, "doublestar")
    assert glob_match("customers/**/values.yaml", deep, "doublestar")
    configs, infra = copy_examples(tmp_path)
    write_tree(configs, {"customers/acme-corp/billing/charts/sub/values.yaml": "replicaCount: 1\n"})
    names = app_names(configs, infra)
    assert names.count("acme-corp-billing") == 2  # the trap: a second app from the nested file
    write_tree(configs, {".gitops-checks.yaml": "appsets:\n  new_git_file_globbing: true\n"})
    assert app_names(configs, infra).count("acme-corp-billing") == 1


def test_diff_lists_applications_added_and_removed(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    init_repo(configs)
    git(configs, "checkout", "-q", "-b", "feature")
    products = configs / "customers/acme-corp/products.yaml"
    products.write_text(products.read_text().replace("- name: search\n  enabled: true\n", ""))
    shutil.rmtree(configs / "customers/acme-corp/search")
    commit_all(configs, "acme leaves search")
    out = tmp_path / "d.json"
    proc = run_cli("diff", "--configs", configs, "--infra", infra, "--base", "main", "--head", "HEAD",
                   "--report", f"json={out}", "--report", "text")
    data = json.loads(out.read_text())
    removed = {a["name"] for a in data["applications"]["removed"]}
    assert {"acme-corp-search", "acme-corp-search-prod", "acme-corp-search-subscribed"} <= removed
    assert data["applications"]["added"] == []
    assert "application removed (ArgoCD deletes it): acme-corp-search" in proc.stdout
