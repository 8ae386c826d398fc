"""Terraform files read with python-hcl2, with the line of every block and attribute.

python-hcl2 8.x no longer yields line numbers through `with_meta`; its parser does
keep lark's positions (`propagate_positions`), so we walk the lark tree from
`hcl2.parses_to_tree()` ourselves and keep just what the checks need: blocks, their
labels, and attributes with their literal string value when they are one.
Each file is parsed once per run (about 2 ms a file).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from checks.documents import decode_text
from checks.source import Source, SourceError


@dataclass
class Attribute:
    name: str
    line: int
    column: int
    literal: str | None  # the string value when it is a plain literal, else None
    is_null: bool = False


@dataclass
class Block:
    type: str
    labels: list[str]
    line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


@dataclass
class TfFile:
    path: str
    blocks: list[Block] = field(default_factory=list)
    error: tuple[str, int | None, int | None] | None = None  # message, line, column

    def of_type(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


def _tokens(tree: Any) -> str:
    if isinstance(tree, Token):
        return str(tree)
    return "".join(_tokens(c) for c in tree.children)


def _string_literal(expr: Any) -> str | None:
    """The value of `"text"` with no interpolation; None for any other expression."""
    node = expr
    while isinstance(node, Tree) and node.data in ("expr_term", "expression") and len(node.children) == 1:
        node = node.children[0]
    if not (isinstance(node, Tree) and node.data == "string"):
        return None
    parts = []
    for child in node.children:
        if isinstance(child, Token):
            continue  # the quotes
        if isinstance(child, Tree) and child.data == "string_part":
            for piece in child.children:
                if isinstance(piece, Token) and piece.type.startswith(("STRING_CHARS", "ESCAPE")):
                    parts.append(str(piece))
                else:
                    return None  # interpolation
        else:
            return None
    return "".join(parts)


def _is_null(expr: Any) -> bool:
    return _tokens(expr).strip() == "null"


def _name(tree: Any) -> str:
    return _tokens(tree).strip().strip('"')


def _body(body: Any, into: Block) -> None:
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            ident, _, expr = child.children[0], child.children[1], child.children[-1]
            line = getattr(child.meta, "line", into.line)
            column = getattr(child.meta, "column", 1)
            into.attributes[_name(ident)] = Attribute(_name(ident), line, column, _string_literal(expr),
                                                      _is_null(expr))
        elif child.data == "block":
            into.blocks.append(_block(child))


def _block(tree: Tree) -> Block:
    head = [c for c in tree.children if isinstance(c, Tree) and c.data in ("identifier", "string")]
    block = Block(_name(head[0]), [_name(h) for h in head[1:]], getattr(tree.meta, "line", 0))
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "body":
            _body(child, block)
    return block


def parse_hcl(path: str, text: str) -> TfFile:
    import hcl2

    result = TfFile(path)
    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])
        hint = f" (expected {', '.join(expected[:5])})" if expected else ""
        found = getattr(getattr(exc, "token", None), "type", None)
        what = "unexpected end of file" if found == "$END" else "unexpected input"
        result.error = (f"HCL syntax error: {what}{hint}", getattr(exc, "line", None), getattr(exc, "column", None))
        return result
    except (LarkError, RecursionError, ValueError) as exc:
        result.error = (f"HCL could not be parsed ({type(exc).__name__})", None, None)
        return result
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "body":
            holder = Block("(file)", [], 0)
            _body(child, holder)
            result.blocks = holder.blocks
    return result


class TerraformStore:
    """Every `.tf` file of a repo, parsed at most once per run, grouped by directory."""

    def __init__(self, source: Source, max_bytes: int, disk_cache=None) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.disk_cache = disk_cache  # checks.cache.BlobCache, optional
        self._files: dict[str, TfFile] = {}
        self._dirs: dict[str, list[str]] | None = None

    def dirs(self) -> dict[str, list[str]]:
        if self._dirs is None:
            dirs: dict[str, list[str]] = {}
            for path, entry in self.source.files().items():
                if path.endswith(".tf") and not entry.is_symlink:
                    dirs.setdefault(posixpath.dirname(path), []).append(path)
            self._dirs = {d: sorted(files) for d, files in dirs.items()}
        return self._dirs

    def file(self, path: str) -> TfFile:
        if path not in self._files:
            entry = self.source.files().get(path)
            if entry is None or entry.size > self.max_bytes:
                self._files[path] = TfFile(path, error=("file missing or over the size limit", None, None))
            else:
                try:
                    data = self.source.read(path)
                except (OSError, SourceError) as exc:
                    self._files[path] = TfFile(path, error=(f"cannot read: {exc}", None, None))
                    return self._files[path]
                self._files[path] = self._parse(path, data)
        return self._files[path]

    def _parse(self, path: str, data: bytes) -> TfFile:
        from checks.documents import blob_id

        blob = blob_id(data) if self.disk_cache is not None else ""
        if blob:
            cached = self.disk_cache.get("hcl", blob)
            if cached is not None:
                from checks.cache import load_hcl

                return load_hcl(path, cached)
        text, problem = decode_text(data)
        tf = parse_hcl(path, text) if text is not None else TfFile(
            path, error=(problem.message if problem else "unreadable", None, None))
        if blob:
            from checks.cache import dump_hcl

            self.disk_cache.put("hcl", blob, dump_hcl(tf))
        return tf

    def module(self, directory: str) -> list[TfFile]:
        return [self.file(p) for p in self.dirs().get(directory, [])]


# -- module sources, classified as Terraform does ------------------------------------------
_REGISTRY = re.compile(r"^(?:(?P<host>[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?)/)?(?P<ns>[\w-]+)/(?P<name>[\w-]+)/"
                       r"(?P<provider>[a-z0-9]+)(?://(?P<sub>.*))?$")


@dataclass(frozen=True)
class ModuleSource:
    kind: str  # local, registry, git, hg, http, s3, gcs, unknown
    raw: str
    host: str | None = None
    ref: str | None = None  # ?ref= (git) or ?rev= (hg)
    subdir_after_query: bool = False


def classify_source(source: str) -> ModuleSource:
    s = source.strip()
    if s.startswith(("./", "../")) or s in (".", ".."):
        return ModuleSource("local", s)
    forced, _, rest = s.partition("::") if "::" in s.split("/")[0] else ("", "", s)
    query = rest.split("?", 1)[1] if "?" in rest else ""
    params = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&") if p)
    after = rest.split("?", 1)[1] if "?" in rest else ""
    subdir_after = "//" in after
    if forced in ("git", "hg", "s3", "gcs", "http", "https"):
        kind = {"https": "http"}.get(forced, forced)
        ref = params.get("ref") if kind == "git" else params.get("rev")
        return ModuleSource(kind, s, _host(rest), _strip_subdir(ref), subdir_after)
    ref = _strip_subdir(params.get("ref"))
    if s.startswith(("github.com/", "bitbucket.org/")):
        return ModuleSource("git", s, s.split("/", 1)[0], ref, subdir_after)
    if re.match(r"^[\w.-]+@[\w.-]+:", s):  # scp-like ssh: git@github.com:org/repo.git
        return ModuleSource("git", s, s.split("@", 1)[1].split(":", 1)[0], ref, subdir_after)
    if s.startswith("git://"):
        return ModuleSource("git", s, _host(s), ref, subdir_after)
    if s.startswith(("https://", "http://")):
        kind = "s3" if ".amazonaws.com/" in s else ("gcs" if "storage.googleapis.com/" in s else "http")
        return ModuleSource(kind, s, _host(s))
    m = _REGISTRY.match(s)
    if m:
        return ModuleSource("registry", s, m.group("host") or "registry.terraform.io")
    return ModuleSource("unknown", s)


def _strip_subdir(ref: str | None) -> str | None:
    return ref.split("//", 1)[0] if ref else ref


def _host(url: str) -> str | None:
    m = re.match(r"^(?:[a-z+]+://)?(?:[^@/]+@)?([^/:?]+)", url)
    return m.group(1) if m else None
