"""--cache-dir: parse results keyed by content -- the same findings as without it, never stale."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_examples, run_cli, write_tree


def _run(configs: Path, infra: Path, out: Path, *extra: str) -> list[tuple]:
    proc = run_cli("--configs", configs, "--infra", infra, "--report", f"json={out}", *extra)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    return sorted((f["check"], f["path"], f["line"], f["message"]) for f in json.loads(out.read_text())["findings"])


def test_cached_runs_match_uncached_and_a_changed_file_is_never_stale(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    cache = tmp_path / "cache"
    write_tree(configs, {"customers/acme-corp/configs/flags.yaml": "a: 1\na: 2\n",
                         "customers/acme-corp/terraform/extra.tf": 'module "x" {\n  source = "../nope"\n}\n'})
    plain = _run(configs, infra, tmp_path / "p.json")
    cold = _run(configs, infra, tmp_path / "c.json", "--cache-dir", str(cache))
    warm = _run(configs, infra, tmp_path / "w.json", "--cache-dir", str(cache))
    assert plain == cold == warm and plain
    assert list(cache.rglob("*.json"))  # entries were written, as JSON
    # change both files: the cache is keyed by content, so the old results cannot come back
    write_tree(configs, {"customers/acme-corp/configs/flags.yaml": "b: 1\nb: 2\nb: 3\n",
                         "customers/acme-corp/terraform/extra.tf": 'module "x" {\n  source = "../../../x"\n'})
    after = _run(configs, infra, tmp_path / "a.json", "--cache-dir", str(cache))
    assert after == _run(configs, infra, tmp_path / "a2.json")
    assert ("terraform/syntax", "customers/acme-corp/terraform/extra.tf", 3) in {f[:3] for f in after}
    assert [f[2] for f in after if f[0] == "yaml/duplicate-key"] == [2, 3]
