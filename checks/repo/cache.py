"""An optional on-disk cache of parse results keyed by git blob id (the content's hash).

Each parser owns the JSON form of its results (documents.dump_yaml, terraform.dump_hcl);
this module only stores and fetches them.

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
from checks.core.settings import Limits

FORMAT = 3  # 2: Terraform parsed with tree-sitter-hcl; 3: YAML without positions (read from the text)


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
