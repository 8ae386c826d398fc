"""An optional on-disk cache of parse results keyed by git blob id (the content's hash).

A CI job that restores the folder skips parsing every file that did not change. Entries
are keyed by content, so a changed file can never be served stale; they are JSON (never
pickle: a restored cache folder must not be able to run code), and the namespace holds
the suite's version and the parse limits, so a new version or other limits start afresh.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from checks import __version__
from checks.engines.terraform import Attribute, Block, TfFile
from checks.repo.documents import Limits, Problem, YamlDocument

FORMAT = 2  # 2: Terraform parsed with tree-sitter-hcl


class BlobCache:
    def __init__(self, root: Path, limits: Limits) -> None:
        namespace = f"v{FORMAT}-{__version__}-{limits.max_file_bytes}-{limits.max_nodes}-{limits.max_depth}"
        self.root = root / namespace
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, blob: str) -> Path:
        return self.root / kind / blob[:2] / f"{blob}.json"

    def get(self, kind: str, blob: str) -> Any:
        try:
            data = json.loads(self._path(kind, blob).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, kind: str, blob: str, data: Any) -> None:
        path = self._path(kind, blob)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"))
            os.replace(tmp, path)  # atomic: a concurrent reader sees all or nothing
        except OSError:
            pass  # a cache that cannot be written is only slower


# -- YAML parse results ------------------------------------------------------------------
def dump_yaml(documents: list[YamlDocument], problems: list[Problem], text: str | None) -> dict:
    return {
        "docs": [{"value": d.value, "pos": [[list(k), v[0], v[1]] for k, v in d.positions.items()]}
                 for d in documents],
        "problems": [[p.check, p.message, p.line, p.column, list(p.key_path), p.fatal] for p in problems],
        "text": text,
    }


def load_yaml(data: dict) -> tuple[list[YamlDocument], list[Problem], str | None]:
    docs = [YamlDocument(d["value"], {tuple(k): (line, col) for k, line, col in d["pos"]}) for d in data["docs"]]
    problems = [Problem(c, m, line, col, tuple(kp), fatal) for c, m, line, col, kp, fatal in data["problems"]]
    return docs, problems, data["text"]


# -- Terraform parse results ---------------------------------------------------------------
def _dump_block(b: Block) -> dict:
    return {"t": b.type, "l": b.labels, "n": b.line,
            "a": [[a.name, a.line, a.column, a.literal, a.is_null] for a in b.attributes.values()],
            "b": [_dump_block(c) for c in b.blocks]}


def _load_block(d: dict) -> Block:
    block = Block(d["t"], d["l"], d["n"])
    for name, line, column, literal, is_null in d["a"]:
        block.attributes[name] = Attribute(name, line, column, literal, is_null)
    block.blocks = [_load_block(c) for c in d["b"]]
    return block


def dump_hcl(tf: TfFile) -> dict:
    return {"blocks": [_dump_block(b) for b in tf.blocks], "error": list(tf.error) if tf.error else None}


def load_hcl(path: str, data: dict) -> TfFile:
    return TfFile(path, [_load_block(b) for b in data["blocks"]], tuple(data["error"]) if data["error"] else None)
