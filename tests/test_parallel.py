"""Checks in forked workers: the same findings as one process, and a worker that dies is an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import copy_examples, findings_of, run_cli, write_tree


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


def test_worker_parts_split_a_shard_exactly():
    from checks.runner.parallel import shares
    from checks.scope.selection import Scope, partition

    names = [f"customer:c{i}" for i in range(3000)] + [f"customer-configs/products/p{i}/x.yaml" for i in range(300)]
    for shard in (None, (2, 3)):
        whole = {n for n in names if Scope(shard=shard).in_shard(n)}
        for workers, appsets in ((2, True), (2, False), (3, True), (4, True)):
            seen: list[str] = []
            sizes = []
            for part in partition(shares(workers, appsets)):
                mine = [n for n in names if Scope(shard=shard, part=part).in_shard(n)]
                seen += mine
                sizes.append(len(mine))
            assert sorted(seen) == sorted(whole), (shard, workers)  # every name in exactly one part
            if appsets and workers == 2:
                assert sizes[0] < sizes[1]  # the worker generating Applications takes fewer customers
