"""Terraform files read with tree-sitter-hcl, with the line of every block and attribute.

python-hcl2 (lark, in Python) took about 2 ms a file -- the largest single cost of a full
run on 1,000 customers; tree-sitter's C parser reads the same 2,006 files in 0.2 s. We
keep just what the checks need: blocks, their labels, and attributes with their literal
string value when they are one. Each file is parsed once per run. tree-sitter recovers
from errors; any ERROR or MISSING node makes the file a syntax finding and it is not used.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from checks.core import progress
from checks.repo.cache import BlobCache
from checks.repo.documents import blob_id, decode_text
from checks.repo.source import Source, SourceError


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


_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_hcl
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_hcl.language()))
    return _PARSER


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace")


def _string_literal(expr: Any) -> str | None:
    """The value of `"text"` with no interpolation (escapes kept as written); None for anything else."""
    node = expr
    while node.type in ("expression", "literal_value") and node.named_child_count == 1:
        node = node.named_children[0]
    if node.type != "string_lit":
        return None
    return "".join(_text(c) for c in node.named_children if c.type == "template_literal")


def _name(node: Any) -> str:
    text = _text(node)
    # a string_lit is quote, literal text (escapes as written), quote: never an interpolation
    return text[1:-1] if node.type == "string_lit" and len(text) >= 2 else text


MAX_BLOCK_DEPTH = 64  # real configurations nest a handful of levels; deeper is hostile input


class _TooDeep(Exception):
    pass


def _body(body: Any, into: Block, depth: int = 0) -> None:
    if depth > MAX_BLOCK_DEPTH:
        raise _TooDeep
    for child in body.named_children:
        if child.type == "attribute":
            ident, expr = child.named_children[0], child.named_children[-1]
            name = _name(ident)
            into.attributes[name] = Attribute(name, child.start_point[0] + 1, child.start_point[1] + 1,
                                              _string_literal(expr), _text(expr).strip() == "null")
        elif child.type == "block":
            into.blocks.append(_block(child, depth + 1))


def _block(node: Any, depth: int) -> Block:
    head = [c for c in node.named_children if c.type in ("identifier", "string_lit")]
    block = Block(_name(head[0]), [_name(h) for h in head[1:]], node.start_point[0] + 1)
    for child in node.named_children:
        if child.type == "body":
            _body(child, block, depth)
    return block


def _first_error(root: Any) -> Any | None:
    """The first ERROR or MISSING node in document order."""
    cursor = [root]
    while cursor:
        node = cursor.pop()
        if node.is_missing or node.type == "ERROR":
            return node
        if node.has_error:
            cursor.extend(reversed(node.children))
    return None


_CLOSERS = {"}", "]", ")", '"', "quoted_template_end"}


def parse_hcl(path: str, text: str) -> TfFile:
    """A `.tf` file's blocks and attributes, or its first syntax error."""
    quick = quick_hcl(path, text)
    return quick if quick is not None else parse_hcl_tree_sitter(path, text)


def parse_hcl_tree_sitter(path: str, text: str) -> TfFile:
    result = TfFile(path)
    data = text.encode("utf-8")
    try:
        tree = _parser().parse(data)
    except (ValueError, RecursionError) as exc:
        result.error = (f"HCL could not be parsed ({type(exc).__name__})", None, None)
        return result
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root) or root
        line, column = bad.start_point[0] + 1, bad.start_point[1] + 1
        if bad.is_missing and bad.type in _CLOSERS:
            at_end = bad.start_byte >= len(data.rstrip())
            closer = '"' if bad.type == "quoted_template_end" else bad.type
            what = f"unexpected end of file (expected {closer})" if at_end else f"missing {closer}"
        else:
            what = "unexpected input"
        result.error = (f"HCL syntax error: {what}", line, column)
        return result
    for child in root.named_children:
        if child.type == "body":
            holder = Block("(file)", [], 0)
            try:
                _body(child, holder)
            except _TooDeep:
                result.error = (f"blocks nested deeper than {MAX_BLOCK_DEPTH} levels; file not used", 1, 1)
                return result
            result.blocks = holder.blocks
    return result


# -- the common plain layout, read without tree-sitter ---------------------------------------------------------
# tree-sitter-hcl reads about 3 MB/s: at 1,000 customers 2,000 small files cost 0.23 s, more than all the
# Terraform checks. Most files are a plain layout: one block header, attribute or closing brace per line,
# values that are a string without interpolation or escapes, a number, true/false/null, a reference
# (`var.x`, `string`), one `==`/`!=` comparison chosen by `? :`, or an object spread over lines of
# `key = value`. Such a file is read line by line here; anything else (a comment after code, a heredoc,
# a function call, interpolation, a one-line block, non-ASCII text...) is left to tree-sitter, so this
# reader only ever accepts valid HCL, and reads it as tree-sitter does (tests compare both on every
# file of the corpus, the benchmark trees and mutations of them).
_IDENT = r"[A-Za-z][A-Za-z0-9_]*"  # (HCL allows more: those files are left to tree-sitter)
# no escapes, no ${ } or %{ } templates, no space at either end (tree-sitter-hcl leaves it out of the text)
_STRING = r'"(?:[^"\\$%\s]|[^"\\$%\s][^"\\$%\n]*[^"\\$%\s])?"'
_SIMPLE = rf"(?:{_STRING}|-?[0-9]+(?:\.[0-9]+)?|{_IDENT}(?:\.{_IDENT})*)"
_EXPR = rf"{_SIMPLE}(?:[ \t]*[!=]=[ \t]*{_SIMPLE}[ \t]*\?[ \t]*{_SIMPLE}[ \t]*:[ \t]*{_SIMPLE})?"
_LINE = re.compile(
    rf"[ \t]*(?:"
    rf"(?P<comment>(?:#|//).*)"
    rf"|(?P<attr>{_IDENT})[ \t]*=[ \t]*(?:(?P<object>\{{)|(?P<value>{_EXPR}))"
    rf"|(?P<type>{_IDENT})(?P<labels>(?:[ \t]+(?:{_STRING}|{_IDENT}))*)[ \t]*\{{"
    rf"|(?P<close>\}})"
    rf")?[ \t]*")
_LABEL = re.compile(rf"{_STRING}|{_IDENT}")
_STRINGS = re.compile(_STRING)
# words tree-sitter-hcl's grammar gives a meaning of their own somewhere: left to it wherever they appear
_RESERVED = re.compile(r"\b(?:for|in|if|else|endif|endfor|true|false|null)\b")


def quick_hcl(path: str, text: str) -> TfFile | None:
    """The file read line by line when it is the plain layout above; None: anything else."""
    if not text.endswith("\n") or not text.isascii() or "\r" in text or "/*" in text:
        return None
    file_holder = Block("(file)", [], 0)
    open_blocks = [file_holder]
    in_object = False
    for number, line in enumerate(text.split("\n")[:-1], 1):
        m = _LINE.fullmatch(line)
        if m is None:
            return None
        if m["comment"] is not None or not line.strip():
            continue
        if in_object:  # inside `name = {`: `key = value` lines and the closing brace only
            if m["close"] is not None:
                in_object = False
            elif m["value"] is None or _RESERVED.fullmatch(m["attr"]) or (
                    m["value"] not in ("true", "false", "null") and _RESERVED.search(_STRINGS.sub('""', m["value"]))):
                return None
            continue
        if m["attr"] is not None:
            name = m["attr"]
            if _RESERVED.fullmatch(name):
                return None
            value = m["value"]
            if value is None:
                in_object = True
                literal, is_null = None, False
            else:
                if value not in ("true", "false", "null") and _RESERVED.search(_STRINGS.sub('""', value)):
                    return None
                literal = value[1:-1] if value[0] == '"' and value.count('"') == 2 else None
                is_null = value == "null"
            column = len(line) - len(line.lstrip(" \t")) + 1
            open_blocks[-1].attributes[name] = Attribute(name, number, column, literal, is_null)
        elif m["type"] is not None:
            if _RESERVED.fullmatch(m["type"]) or len(open_blocks) > MAX_BLOCK_DEPTH:
                return None
            labels = []
            for label in _LABEL.findall(m["labels"]):
                if label[0] == '"':
                    labels.append(label[1:-1])
                elif _RESERVED.fullmatch(label):
                    return None
                else:
                    labels.append(label)
            block = Block(m["type"], labels, number)
            open_blocks[-1].blocks.append(block)
            open_blocks.append(block)
        elif m["close"] is not None:
            if len(open_blocks) == 1:
                return None
            open_blocks.pop()
        else:
            return None
    if in_object or len(open_blocks) != 1:
        return None
    return TfFile(path, file_holder.blocks)


# -- parse results in the on-disk cache (JSON) ---------------------------------------------------------------
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


class TerraformStore:
    """Every `.tf` file of a repo, parsed at most once per run, grouped by directory."""

    def __init__(self, source: Source, max_bytes: int, disk_cache: BlobCache | None = None) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.disk_cache = disk_cache
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
                progress.tick(progress.FILES)
        return self._files[path]

    def _parse(self, path: str, data: bytes) -> TfFile:
        cache = self.disk_cache
        blob = blob_id(data) if cache is not None else ""
        if cache is not None:
            cached = cache.get("hcl", blob)
            if cached is not None:
                return load_hcl(path, cached)
        text, problem = decode_text(data)
        tf = parse_hcl(path, text) if text is not None else TfFile(
            path, error=(problem.message if problem else "unreadable", None, None))
        if cache is not None:
            cache.put("hcl", blob, dump_hcl(tf))
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
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
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
