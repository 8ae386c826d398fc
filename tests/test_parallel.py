"""Checks in forked workers: the same findings as one process, and a worker that dies is an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import commit_all, copy_examples, findings_of, init_repo, run_cli, write_tree


def _findings(path: Path) -> list[tuple]:
    report = json.loads(path.read_text())
    return sorted((f["check"], f["path"], f["line"], f["severity"], f["message"]) for f in report["findings"])


def test_workers_give_the_same_findings_as_one_process(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    write_tree(configs, {
        "customers/acme-corp/configs/feature-flags.yaml": "a: 1\na: 2\n",
        "customers/acme-corp/terraform/extra.tf": 'module "x" {\n  source = "../nope"\n}\n',
        "products/billing/environments/prod.yaml": "logLevel: loud\n",
        "customers/globex/configs/app.env": "API_TOKEN=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\n",
        "customers/ghost/notes.yaml": "a: 1\n",  # a customer folder with neither metadata nor products
    })
    outs, junit = {}, {}
    for workers in ("1", "2", "3"):
        out, xml = tmp_path / f"w{workers}.json", tmp_path / f"w{workers}.xml"
        proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}", "--report", f"junit={xml}",
                       "--junit-granularity", "fine", env={"GITOPS_CHECKS_WORKERS": workers})
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        outs[workers] = _findings(out)
        # every unit, file and customer examined, in the same order (workers report theirs back)
        junit[workers] = re.sub(r'(time|timestamp)="[^"]*"', "", xml.read_text())
    assert outs["1"] == outs["2"] == outs["3"]
    assert junit["1"] == junit["2"] == junit["3"] and junit["1"].count("<testcase") > 222
    assert any(f[0] == "consistency/metadata" and f[1] == "customers/ghost" for f in outs["2"])
    checks = {f[0] for f in outs["2"]}
    assert {"yaml/duplicate-key", "terraform/module-source", "schema/values", "secrets/plaintext"} <= checks


REPO = "http://localhost:7990/scm/test/customer-configs.git"
INFRA_REPO = "http://localhost:7990/scm/test/platform-infrastructure.git"


def _appset(name: str, generators: str, app_name: str, path: str, value_files: list[str], namespace: str,
            go: bool = True) -> str:
    files = "".join(f"\n              - '{v}'" for v in value_files)
    options = '  goTemplate: true\n  goTemplateOptions: ["missingkey=error"]\n' if go else ""
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: {name}\n"
            f"  namespace: argocd\nspec:\n{options}  generators:\n{generators}  template:\n"
            f"    metadata:\n      name: '{app_name}'\n    spec:\n      project: default\n      sources:\n"
            f"        - repoURL: {INFRA_REPO}\n          targetRevision: main\n          path: '{path}'\n"
            f"          helm:\n            valueFiles:{files}\n"
            f"        - repoURL: {REPO}\n          targetRevision: main\n          ref: values\n"
            f"      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{namespace}'\n")


GIT_VALUES = f"    - git:\n        repoURL: {REPO}\n        revision: main\n        files:\n" \
             "          - path: 'customers/*/*/values.yaml'\n"


def _reports(tmp_path: Path, configs: Path, infra: Path, monkeypatch=None) -> dict[str, list[tuple]]:
    """With `monkeypatch`: in this process, each worker taking its Applications 3 customers at a time."""
    outs = {}
    for workers in ("1", "2", "3"):
        out = tmp_path / f"w{workers}.json"
        if monkeypatch is None:
            proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}",
                           env={"GITOPS_CHECKS_WORKERS": workers})
        else:
            from checks.runner import parallel
            monkeypatch.setattr(parallel, "CUSTOMERS_PER_SHARE", 3)
            monkeypatch.setattr(parallel, "worker_count", lambda files, n=int(workers): n)
            proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        outs[workers] = _findings(out)
    return outs


@pytest.mark.parametrize("shares", [False, True])
def test_workers_give_the_same_application_findings_as_one_process(tmp_path: Path, monkeypatch, shares: bool):
    """Each worker generates and checks its customers' Applications (with `shares`: 3 customers'
    at a time): the findings that name Applications of many customers (of every worker), names
    duplicated across customers and ApplicationSets, and a list generator's Applications (every
    worker generates them) come out as from one process."""
    configs, infra = copy_examples(tmp_path)
    elements = "".join(f"            - customer: {c}\n" for c in ("acme-corp", "globex", "no-such-customer"))
    write_tree(infra, {
        # every customer's product Applications named by product only: duplicates across customers
        "applicationsets/90-by-product.yaml": _appset(
            "by-product", GIT_VALUES, "{{ index .path.segments 2 }}", "charts/{{ index .path.segments 2 }}",
            ["$values/{{ .path.path }}/values.yaml"], "default"),
        # the names 01-product-customer-matrix.yaml generates already, and nothing matching a path
        "applicationsets/91-again.yaml": _appset(
            "again", GIT_VALUES + f"    - git:\n        repoURL: {REPO}\n        revision: main\n        files:\n"
            "          - path: 'customers/*/nothing/*.yaml'\n",
            "{{ index .path.segments 1 }}-{{ index .path.segments 2 }}", "products/{{ index .path.segments 2 }}",
            ["$values/{{ .path.path }}/values.yaml", "$values/products/{{ index .path.segments 2 }}/base-values.yaml"],
            "{{ index .path.segments 1 }}"),
        # a list generator (fasttemplate): no customer's file makes these, every worker generates them
        "applicationsets/92-listed.yaml": _appset(
            "listed", f"    - list:\n        elements:\n{elements}", "{{customer}}-listed", "charts/listed",
            ["$values/customers/{{customer}}/billing/values.yaml"], "listed", go=False),
    })
    outs = _reports(tmp_path, configs, infra, monkeypatch if shares else None)
    assert outs["1"] == outs["2"] == outs["3"]
    by_check: dict[str, list[str]] = {}
    for check, path, _, _, message in outs["2"]:
        by_check.setdefault(check, []).append(f"{path}: {message}")
    unique = "\n".join(by_check["appset/unique-names"])
    assert "90-by-product.yaml: " in unique and "91-again.yaml: " in unique
    assert "already used by ApplicationSet product-customer-matrix" in unique
    chart = "\n".join(by_check["appset/chart-path"])
    assert re.search(r"90-by-product.yaml: .* for \d+ applications: .* and \d+ more", chart)
    # the list generator's three Applications once each, whichever worker generated them
    assert "92-listed.yaml: chart path does not exist in platform-infrastructure for 3 applications: " \
           "acme-corp-listed, globex-listed, no-such-customer-listed" in chart
    assert any("92-listed.yaml: value file missing for 2 applications: globex-listed, no-such-customer-listed" in m
               for m in by_check["appset/value-files"])  # globex has no billing
    assert any("(e.g. " in m for m in by_check["appset/namespace"])
    assert any("customers/*/nothing/*.yaml" in m for m in by_check["appset/generators"])


def test_an_application_set_failing_in_one_part_fails_whole_as_in_one_process(tmp_path: Path):
    """A file one customer has makes the generation fail (ArgoCD fails the whole ApplicationSet, with
    its first error): the workers that generate the other customers' Applications do not know; the
    result is still one process's."""
    configs, infra = copy_examples(tmp_path)
    write_tree(configs, {f"customers/{c}/extra/settings.yaml": "replicaCount: 2\n"
                         for c in ("acme-corp", "hooli", "umbrella", "tyrell", "oscorp")})
    write_tree(configs, {"customers/globex/extra/settings.yaml": "replicaCount: [unclosed\n",
                         "customers/initech/extra/settings.yaml": "- just\n- a list\n"})
    extra = f"    - git:\n        repoURL: {REPO}\n        revision: main\n        files:\n" \
            "          - path: 'customers/*/extra/settings.yaml'\n"
    write_tree(infra, {"applicationsets/93-extra.yaml": _appset(
        "extra", extra, "{{ index .path.segments 1 }}-extra", "charts/extra", [], "{{ index .path.segments 1 }}")})
    outs = _reports(tmp_path, configs, infra)
    assert outs["1"] == outs["2"] == outs["3"]
    failed = [f for f in outs["2"] if f[0] == "appset/template" and f[1] == "applicationsets/93-extra.yaml"]
    assert len(failed) == 1 and "unable to process file 'customers/globex/extra/settings.yaml'" in failed[0][4]
    assert not [f for f in outs["2"] if f[0] == "appset/chart-path" and f[1] == "applicationsets/93-extra.yaml"]


def test_a_pull_requests_history_gives_the_same_findings_with_workers(tmp_path: Path):
    """PR mode: each worker scans the PR's commits for its own customers' files only (it knows
    which secrets are still at head there): a secret still in the tree is reported once, at head."""
    configs, infra = copy_examples(tmp_path)
    init_repo(configs)
    init_repo(infra)
    customers = ("acme-corp", "globex", "hooli", "umbrella", "tyrell", "initech", "oscorp", "soylent")
    write_tree(configs, {f"customers/{c}/configs/app.env": "API_TOKEN=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\n"
                         for c in customers})
    commit_all(configs, "tokens")
    write_tree(configs, {"customers/globex/configs/app.env": "API_TOKEN=<path:secret/data/globex#token>\n"})
    commit_all(configs, "one moved to the vault")
    outs = {}
    for workers in ("1", "2", "3"):
        out = tmp_path / f"pr{workers}.json"
        proc = run_cli("--configs", configs, "--infra", infra, "--base", "HEAD~2", "--head", "HEAD",
                       "--report", f"json={out}", env={"GITOPS_CHECKS_WORKERS": workers})
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        outs[workers] = _findings(out)
    assert outs["1"] == outs["2"] == outs["3"]
    secrets = [f for f in outs["2"] if f[0] == "secrets/plaintext"]
    assert len([f for f in secrets if "history" not in f[4]]) == len(customers) - 1  # at head
    (history,) = [f for f in secrets if "history" in f[4]]  # the one removed again
    assert history[1] == "customers/globex/configs/app.env"


def test_a_worker_that_dies_is_an_error_and_the_rest_still_reports(tmp_path: Path):
    site = tmp_path / "site"
    write_tree(site, {
        "dying_plugin.py": "import os\nfrom checks.runner.registry import Check\n\n\nclass Die(Check):\n"
                           '    """Kills its process (test plugin)."""\n    id = "secrets/die"\n\n'
                           "    def run(self, ctx):\n        os._exit(3)\n",
        "dying_plugin-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: dying-plugin\nVersion: 0.1\n",
        "dying_plugin-0.1.dist-info/entry_points.txt": "[gitops_checks.checks]\ndie = dying_plugin:Die\n",
    })
    configs, infra = copy_examples(tmp_path / "repos")
    write_tree(configs, {"customers/acme-corp/configs/feature-flags.yaml": "a: 1\na: 2\n"})
    out = tmp_path / "r.json"
    proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}",
                   env={"GITOPS_CHECKS_WORKERS": "2", "PYTHONPATH": str(site)})
    report = json.loads(out.read_text())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (crash,) = findings_of(report, "internal/crash")
    assert "killed" in crash["message"] and "secrets/die" in crash["message"]
    assert findings_of(report, "yaml/duplicate-key")  # the other worker's findings are intact


def test_worker_parts_split_a_shard_exactly_and_evenly():
    from checks.scope.selection import Scope, balanced_partition, customer_in_part, slot

    names = [f"customer:c{i}" for i in range(3000)] + [f"customer-configs/products/p{i}/x.yaml" for i in range(300)]
    for shard in (None, (2, 3)):
        whole = {n for n in names if Scope(shard=shard).in_shard(n)}
        weights: dict[int, float] = {}
        for n in whole:  # customers of 1 to 20 files
            weights[slot(n, shard)] = weights.get(slot(n, shard), 0) + 1 + len(n) * 7 % 20
        for workers in (2, 3, 4):
            seen: list[str] = []
            loads = []
            for part in balanced_partition(weights, workers):
                mine = [n for n in names if Scope(shard=shard, part=part).in_shard(n)]
                seen += mine
                loads.append(sum(1 + len(n) * 7 % 20 for n in mine))
            assert sorted(seen) == sorted(whole), (shard, workers)  # every name in exactly one part
            assert max(loads) < 1.03 * min(loads), loads  # dealt by weight: parts of equal work

    # a worker's Applications: those of its part's customers, of every shard; a share of them each time
    customers = [f"c{i}" for i in range(3000)]
    for shard in (None, (2, 3)):
        parts = balanced_partition({}, 3)
        assert sorted(len(p[0]) for p in parts) == [85, 85, 86]  # no weights: as many classes each
        owners = [[p for p in parts if customer_in_part(c, p, shard)] for c in customers]
        assert all(len(o) == 1 for o in owners)
        for c, (part,) in zip(customers, owners, strict=True):
            if Scope(shard=shard).in_shard(f"customer:{c}"):
                assert Scope(shard=shard, part=part).in_shard(f"customer:{c}")  # where its units are
            assert [j for j in range(4) if customer_in_part(c, part, shard, (j, 4))] != []
            assert len([j for j in range(4) if customer_in_part(c, part, shard, (j, 4))]) == 1
