"""Safe parsing with line maps and limits.

YAML is read event by event from libyaml (`yaml.CSafeLoader`) and built straight
into plain Python values, recording the line and column of every key path on the
way. Nothing is ever constructed from a tag other than YAML's core types, alias
expansion is counted before it can explode, and nesting depth is bounded before
any recursion could hit the C stack. Each problem becomes a `Problem` with a check
id; the caller turns problems into findings and carries on with the next file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml._yaml import CParser

from checks.core import progress
from checks.core.findings import KeyPath
from checks.core.settings import Limits
from checks.repo.cache import BlobCache
from checks.repo.source import Source, SourceError

Position = tuple[int, int]  # 1-based line and column

YAML_SUFFIXES = (".yaml", ".yml")
_CORE = "tag:yaml.org,2002:"
_SAFE_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}
_SAFE_COLLECTION_TAGS = {f"{_CORE}map", f"{_CORE}seq", f"{_CORE}omap"}
_MERGE_TAG = f"{_CORE}merge"


@dataclass(frozen=True)
class Problem:
    check: str
    message: str
    line: int | None = None
    column: int | None = None
    key_path: KeyPath = ()
    fatal: bool = True  # the file cannot be used by later steps


class YamlDocument:
    """One parsed document: its value, and the line and column of every key path.

    Positions are only needed for a finding's line, so a file is parsed once without them
    and, the first time one of its documents is asked, parsed again from its text to record
    them (holding a path tuple and a position per node for every file doubled what a run keeps)."""

    __slots__ = ("_index", "_lazy", "_positions", "value")

    def __init__(self, value: Any, positions: dict[KeyPath, Position] | None = None,
                 lazy: _LazyPositions | None = None, index: int = 0) -> None:
        self.value = value
        self._positions = positions
        self._lazy = lazy
        self._index = index

    @property
    def positions(self) -> dict[KeyPath, Position]:
        if self._positions is None:
            lazy, self._lazy = self._lazy, None
            self._positions = lazy.of(self._index) if lazy is not None else {}
        return self._positions

    def locate(self, path: KeyPath) -> Position | None:
        """The line of `path`, or of its closest recorded ancestor."""
        positions = self.positions
        for end in range(len(path), -1, -1):
            pos = positions.get(tuple(path[:end]))
            if pos is not None:
                return pos
        return None

    def with_value(self, value: Any) -> YamlDocument:
        """A document of `value` at this one's positions (JSON read again as YAML for its lines)."""
        if self._positions is not None:
            return YamlDocument(value, self._positions)
        return YamlDocument(value, None, self._lazy, self._index)

    def __repr__(self) -> str:
        return f"YamlDocument({self.value!r})"


class _LazyPositions:
    """The positions of a file's documents, recorded by parsing its text again when first asked."""

    __slots__ = ("_done", "limits", "text")

    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self._done: list[dict[KeyPath, Position]] | None = None

    def of(self, index: int) -> dict[KeyPath, Position]:
        if self._done is None:
            builder = _YamlBuilder(self.text, self.limits, record=True)
            builder.run()
            self._done = [d.positions for d in builder.documents]
        return self._done[index] if index < len(self._done) else {}


@dataclass
class ParsedFile:
    repo: str
    path: str
    documents: list[YamlDocument]
    problems: list[Problem]
    text: str | None = None

    @property
    def ok(self) -> bool:
        problems = self.problems  # asked ~10 times per file by the checks; most files have none
        return not problems or not any(p.fatal for p in problems)

    @property
    def first(self) -> YamlDocument | None:
        return self.documents[0] if self.documents else None

    @functools.cached_property
    def _lines(self) -> list[str]:
        return self.text.splitlines() if self.text is not None else []

    def line_text(self, line: int) -> str:
        """One line of the file (suppression comments are looked up per finding: split once)."""
        return self._lines[line - 1] if 1 <= line <= len(self._lines) else ""


class _Stop(Exception):
    """Parsing cannot go on; the problem is already recorded."""


_NO_KEY = object()
_MERGE_KEY = object()


def _key_text(key: Any) -> str:
    # Helm reads values through JSON, which only has string keys.
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _pos(mark: Any) -> Position:
    return mark.line + 1, mark.column + 1


def _add_part(parts: list[str | int], container: dict | list | None, is_map: bool, key: Any) -> None:
    """The key path step to the node a collection is waiting for (none at a document's top, or
    for a collection used as a key, which is rejected)."""
    if container is None:
        return
    if not is_map:
        parts.append(len(container))  # the item being read is appended after the others
    elif key is _MERGE_KEY:
        parts.append("<<")
    elif key is not _NO_KEY:
        parts.append(_key_text(key))


def _container_path(stack: list[tuple]) -> KeyPath:
    """The key path of the open collection, from the states of the collections around it."""
    parts: list[str | int] = []
    for level in stack:
        _add_part(parts, level[0], level[1], level[2])
    return tuple(parts)


def _child_path(stack: list[tuple], container: dict | list | None, is_map: bool, key: Any) -> KeyPath:
    """The key path of the node being read into the open collection."""
    parts = list(_container_path(stack))
    _add_part(parts, container, is_map, key)
    return tuple(parts)


class _YamlBuilder:
    def __init__(self, text: str, limits: Limits, record: bool = False) -> None:
        self.text = text
        self.limits = limits
        self.record = record  # record every key path's position (else they are recorded when asked for)
        self.problems: list[Problem] = []
        self.documents: list[YamlDocument] = []

    def problem(self, check: str, message: str, pos: Position | None, path: KeyPath = (), fatal: bool = True):
        line, col = pos if pos else (None, None)
        self.problems.append(Problem(check, message, line, col, path, fatal))

    def run(self) -> None:
        loader = CParser(self.text)  # libyaml's parser alone: scalars are resolved and built here
        try:
            self._loop(loader)
        except _Stop:
            pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = (mark.line + 1, mark.column + 1) if mark else None
            what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
            self.problem("yaml/syntax", f"YAML syntax error: {what}", pos)
        except yaml.YAMLError as exc:  # reader errors: control characters, bad encodings
            mark = getattr(exc, "position", None)
            pos = _offset_to_pos(self.text, mark) if isinstance(mark, int) else None
            self.problem("yaml/syntax", f"YAML error: {_first_line(str(exc))}", pos)
        finally:
            loader.dispose()

    def _loop(self, loader: Any) -> None:
        """Builds the documents from libyaml's events, in one pass.

        Every file of a run goes through here, so the loop is written for speed: the collection
        being filled is held in locals (its value, whether it is a mapping, the key waiting for its
        value, the line of every key read so far) and the enclosing ones as tuples on `stack`.
        Key paths are worked out from the stack only when a problem is reported (and for every
        node in a recording parse); the size of a collection (for alias expansion) is the count
        of nodes read since it opened; marks become (line, column) only when one is used."""
        record = self.record
        lazy = None if record else _LazyPositions(self.text, self.limits)
        max_nodes, max_depth = self.limits.max_nodes, self.limits.max_depth
        resolve = _RESOLVER.resolve
        get_event = loader.get_event
        plain = _PLAIN_SCALARS
        no_key, merge_key = _NO_KEY, _MERGE_KEY
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        sequence_start, sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        document_start, document_end = yaml.DocumentStartEvent, yaml.DocumentEndEvent
        safe_tags = _SAFE_COLLECTION_TAGS

        stack: list[tuple] = []  # the state of each enclosing collection, as the locals below
        anchors: dict[str, tuple[Any, int]] = {}
        positions: dict[KeyPath, Position] = {}
        root: Any = None
        total = 0  # nodes read, aliases counted at their expanded size
        merge_keys = 0  # `<<` keys: in `total`, not in the size of their mapping
        # the open collection (container None: a document's top level)
        container: Any = None
        is_map = False
        key: Any = no_key  # a mapping's key waiting for its value
        key_mark: Any = None
        seen: dict[str, Any] | None = None  # key -> the mark where it was read, of a mapping
        f_anchor: str | None = None
        f_start: Any = None  # its start mark
        f_counted = 0  # total - merge_keys when it opened
        f_merges: list[dict] | None = None
        f_path: KeyPath = ()  # recording parse only

        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                vmark = event.start_mark
                total += 1
                if total > max_nodes:
                    self._too_many(_pos(vmark))
                text = event.value
                if text == "<<" and is_map and key is no_key and event.implicit[0] \
                        and resolve(yaml.ScalarNode, "<<", (True, False)) == _MERGE_TAG:
                    merge_keys += 1
                    key = merge_key
                    key_mark = vmark
                    continue
                if event.tag is None:  # the common case, inline: quoted is text, plain is resolved once
                    if not event.implicit[0]:
                        value = text
                    else:
                        value = plain.get(text, no_key)
                        if value is no_key:
                            value = self._scalar(event, resolve, _pos(vmark),
                                                 functools.partial(_child_path, stack, container, is_map, key))
                else:
                    value = self._scalar(event, resolve, _pos(vmark),
                                         functools.partial(_child_path, stack, container, is_map, key))
                anchor = event.anchor
                if anchor is not None:
                    anchors[anchor] = (value, 1)
                is_scalar = True
            elif kind is mapping_start or kind is sequence_start:
                vmark = event.start_mark
                total += 1
                if total > max_nodes:
                    self._too_many(_pos(vmark))
                if len(stack) >= max_depth:
                    self.problem("yaml/limits", f"nesting deeper than {max_depth} levels; file not used",
                                 _pos(vmark))
                    raise _Stop
                tag = event.tag
                if tag is not None and tag != "!" and tag not in safe_tags:
                    self._bad_tag(tag, _pos(vmark), _child_path(stack, container, is_map, key))
                if record:
                    path = _child_path(stack, container, is_map, key)
                stack.append((container, is_map, key, key_mark, seen, f_anchor, f_start, f_counted, f_merges,
                              f_path))
                if kind is mapping_start:
                    container, is_map, seen = {}, True, {}
                else:
                    container, is_map, seen = [], False, None
                key = no_key
                f_anchor, f_start, f_counted, f_merges = event.anchor, vmark, total - 1 - merge_keys, None
                if record:
                    f_path = path
                continue
            elif kind is mapping_end or kind is sequence_end:
                value = container
                if f_merges:
                    for source in f_merges:
                        for k, v in source.items():
                            if k not in seen:  # type: ignore[operator]  # a mapping's: explicit keys win
                                value[k] = v
                                seen[k] = f_start  # type: ignore[index]
                if f_anchor is not None:
                    anchors[f_anchor] = (value, total - merge_keys - f_counted)
                vmark = f_start
                is_scalar = False
                container, is_map, key, key_mark, seen, f_anchor, f_start, f_counted, f_merges, f_path = stack.pop()
            elif kind is alias_event:
                vmark = event.start_mark
                found = anchors.get(event.anchor)
                if found is None:
                    self.problem("yaml/syntax", f"alias *{event.anchor} refers to no anchor defined before it",
                                 _pos(vmark), _child_path(stack, container, is_map, key))
                    raise _Stop
                value, size = found
                total += size
                if total > max_nodes:
                    self._too_many(_pos(vmark))
                is_scalar = not isinstance(value, (dict, list))
            elif event is None:
                break
            elif kind is document_start:
                stack, anchors, positions, root = [], {}, {}, None
                container, is_map, key, seen = None, False, no_key, None
                continue
            elif kind is document_end:
                if record:
                    self.documents.append(YamlDocument(root, positions))
                else:
                    self.documents.append(YamlDocument(root, None, lazy, len(self.documents)))
                continue
            else:
                continue

            # the value read joins the open collection (most often a mapping's)
            if is_map:
                if key is no_key:
                    if not is_scalar:
                        self.problem("yaml/syntax", "a mapping or list used as a key is not supported",
                                     _pos(vmark), _container_path(stack))
                        raise _Stop
                    key = value
                    key_mark = vmark
                elif key is not merge_key:
                    text = key if type(key) is str else _key_text(key)
                    key = no_key
                    if text in container:  # before the merges (applied at its end), its keys are those seen
                        first = seen[text].line + 1  # type: ignore[index]
                        self.problem("yaml/duplicate-key",
                                     f"duplicate key {text!r} (first at line {first}); Helm silently keeps this one",
                                     _pos(key_mark), (*_container_path(stack), text), fatal=False)
                    seen[text] = key_mark  # type: ignore[index]
                    if record:
                        positions[(*f_path, text)] = _pos(key_mark)
                    container[text] = value
                else:
                    key = no_key
                    sources = value if isinstance(value, list) else [value]
                    if not all(isinstance(s, dict) for s in sources):
                        self.problem("yaml/syntax", "a merge key (<<) needs a mapping or a list of mappings",
                                     _pos(key_mark), _container_path(stack))
                        raise _Stop
                    if f_merges is None:
                        f_merges = []
                    f_merges.extend(sources)
            elif container is not None:
                if record:
                    positions[(*f_path, len(container))] = _pos(vmark)
                container.append(value)
            else:
                root = value
                if record:
                    positions[()] = _pos(vmark)

    def _too_many(self, pos: Position) -> None:
        self.problem(
            "yaml/limits",
            f"more than {self.limits.max_nodes} nodes after alias expansion (an alias bomb?); file not used",
            pos,
        )
        raise _Stop

    def _check_collection_tag(self, tag: str | None, pos: Position, path: KeyPath) -> None:
        if tag is None or tag == "!" or tag in _SAFE_COLLECTION_TAGS:
            return
        self._bad_tag(tag, pos, path)

    def _bad_tag(self, tag: str, pos: Position, path: KeyPath) -> None:
        if tag.startswith(_CORE + "python/") or tag.startswith("!!python"):
            self.problem("yaml/unsafe-tag", f"unsafe tag {tag!r}: never constructed, file not used", pos, path)
            raise _Stop
        self.problem("yaml/unknown-tag", f"unknown tag {tag!r}: Helm reads the value as plain data", pos, path,
                     fatal=False)

    def _scalar(self, event: Any, resolve: Any, pos: Position, path_of: Callable[[], KeyPath]) -> Any:
        """`path_of()` gives the key path, computed only when there is a problem to report."""
        tag = event.tag
        value = event.value
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value  # quoted: always a string
            cached = _PLAIN_SCALARS.get(value, _NO_KEY)
            if cached is not _NO_KEY:
                return cached
            tag = resolve(yaml.ScalarNode, value, event.implicit)
            result = self._construct(tag, value, pos, path_of)
            if len(_PLAIN_SCALARS) < _PLAIN_CACHE_SIZE and len(value) <= 64:
                _PLAIN_SCALARS[value] = result
            return result
        if tag not in _SAFE_SCALAR_TAGS:
            self._bad_tag(tag, pos, path_of())
            return value
        return self._construct(tag, value, pos, path_of)

    def _construct(self, tag: str, value: str, pos: Position, path_of: Callable[[], KeyPath]) -> Any:
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag in (f"{_CORE}timestamp", f"{_CORE}binary"):
            return value  # Go's YAML decoder hands these to Helm as strings
        if tag == f"{_CORE}int" and ":" in value:
            return value  # YAML 1.1 sexagesimal: Go reads it as a string
        construct = _CONSTRUCTOR.yaml_constructors.get(tag)
        if construct is None:
            return value  # YAML 1.1's `=` (tag:yaml.org,2002:value) and the like: Go reads a string
        try:
            return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
        except (ValueError, yaml.YAMLError) as exc:
            self.problem("yaml/syntax", f"cannot read {value!r} as {tag.rsplit(':', 1)[-1]}: {exc}", pos,
                         path_of())
            raise _Stop from None
        except LookupError:  # PyYAML's constructors index: `!!bool maybe`, `!!int ""`
            self.problem("yaml/syntax", f"cannot read {value!r} as {tag.rsplit(':', 1)[-1]}", pos, path_of())
            raise _Stop from None


# Plain scalars repeat across thousands of files ("true", "info", "64Mi"): resolve each spelling once.
# Only immutable results are stored (str, int, float, bool, None), so sharing them is safe.
_PLAIN_SCALARS: dict[str, Any] = {}
_PLAIN_CACHE_SIZE = 200_000
_STR = f"{_CORE}str"
_NULL = f"{_CORE}null"
# Scalar constructors are pure functions of the node, and so is resolving a plain scalar's tag
# (no path resolvers are added): one instance of each serves every file.
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _offset_to_pos(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def decode_text(data: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 text, or the problem that makes it unreadable (binary, another encoding)."""
    if b"\0" in data:
        return None, Problem("yaml/encoding", "binary file (contains NUL bytes) where text is expected", None, None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, Problem("yaml/encoding", f"not UTF-8 text (invalid byte at offset {exc.start})", line, None)
    return text.removeprefix("\ufeff"), None


def parse_yaml_text(text: str, limits: Limits) -> tuple[list[YamlDocument], list[Problem]]:
    builder = _YamlBuilder(text, limits)
    builder.run()
    return builder.documents, builder.problems


def parse_json_text(text: str) -> tuple[list[YamlDocument], list[Problem]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem("yaml/syntax", f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno)]
    except RecursionError:
        return [], [Problem("yaml/limits", "JSON nested too deeply", None, None)]
    return [YamlDocument(value)], []


def is_yaml_path(path: str) -> bool:
    return path.endswith(YAML_SUFFIXES)


def blob_id(data: bytes) -> str:
    """git's object id of a blob with this content (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


# -- YAML parse results in the on-disk cache (JSON) ------------------------------------------------------------------
def dump_yaml(documents: list[YamlDocument], problems: list[Problem], text: str | None) -> dict:
    # positions are not stored: they are recorded from the text when a finding needs a line
    return {
        "docs": [d.value for d in documents],
        "problems": [[p.check, p.message, p.line, p.column, list(p.key_path), p.fatal] for p in problems],
        "text": text,
    }


def load_yaml(data: dict, limits: Limits) -> tuple[list[YamlDocument], list[Problem], str | None]:
    text = data["text"]
    lazy = _LazyPositions(text, limits) if text is not None else None
    docs = [YamlDocument(value, None, lazy, i) for i, value in enumerate(data["docs"])]
    problems = [Problem(c, m, line, col, tuple(kp), fatal) for c, m, line, col, kp, fatal in data["problems"]]
    return docs, problems, text


class DocumentStore:
    """Parses each file of each repo at most once per run.

    Stores may share a parse cache keyed by git blob id: the base and head revisions of a
    diff then parse each distinct file content once, and unchanged files are not even read
    from git.
    """

    def __init__(self, sources: dict[str, Source], limits: Limits,
                 shared: dict[str, tuple[list[YamlDocument], list[Problem], str | None]] | None = None,
                 disk_cache: BlobCache | None = None) -> None:
        self.sources = sources
        self.limits = limits
        self.shared = shared
        self.disk_cache = disk_cache
        self._cache: dict[tuple[str, str], ParsedFile | None] = {}
        self._blobs: dict[tuple[str, str], str | None] = {}

    def exists(self, repo: str, path: str) -> bool:
        source = self.sources.get(repo)
        return source is not None and source.entry(path) is not None

    def get(self, repo: str, path: str) -> ParsedFile | None:
        """The parsed file, or None when it does not exist in that repo."""
        try:  # asked ~15 times per file read: the hit first
            return self._cache[(repo, path)]
        except KeyError:
            pass
        parsed = self._cache[(repo, path)] = self._load(repo, path)
        progress.tick(progress.FILES)
        return parsed

    def held(self) -> set[tuple[str, str]]:
        """(repo, path) of every file read so far."""
        return set(self._cache)

    def forget(self, drop: Callable[[str, str], bool]) -> None:
        """Let go of the parsed files `drop` names (they are read again if asked for)."""
        for key in [k for k in self._cache if drop(*k)]:
            del self._cache[key]

    def blob(self, repo: str, path: str) -> str | None:
        """The content's blob id: from git's listing, or hashed from the working tree file."""
        key = (repo, path)
        if key not in self._blobs:
            source = self.sources.get(repo)
            entry = source.entry(path) if source else None
            if source is None or entry is None:
                self._blobs[key] = None
            elif entry.blob is not None:
                self._blobs[key] = entry.blob
            else:
                try:
                    self._blobs[key] = None if entry.is_symlink else blob_id(source.read(path))
                except (OSError, SourceError):
                    self._blobs[key] = None
        return self._blobs[key]

    def share(self) -> dict[str, tuple[list[YamlDocument], list[Problem], str | None]]:
        """Start (or return) the shared parse cache, seeded with what this store parsed already."""
        if self.shared is None:
            self.shared = {}
        for (repo, path), parsed in self._cache.items():
            blob = self._blobs.get((repo, path))
            if parsed is not None and blob and path.endswith(YAML_SUFFIXES):
                self.shared.setdefault(blob, (parsed.documents, parsed.problems, parsed.text))
        return self.shared

    def parsed(self) -> list[ParsedFile]:
        return [p for p in self._cache.values() if p is not None]

    def raw_text(self, repo: str, path: str) -> str | None:
        parsed = self.get(repo, path)
        return parsed.text if parsed else None

    def _load(self, repo: str, path: str) -> ParsedFile | None:
        source = self.sources.get(repo)
        if source is None:
            return None
        entry = source.entry(path)
        if entry is None:
            return None
        real_path = path
        hops = 0
        while entry.is_symlink:
            target = entry.symlink_target or ""
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(real_path), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../") or hops > 8:
                return ParsedFile(repo, path, [], [Problem("yaml/symlink",
                                  f"symlink to {target!r} leaves the repository; not followed")])
            hops += 1
            real_path = resolved
            entry = source.entry(real_path)
            if entry is None:
                return ParsedFile(repo, path, [], [Problem("yaml/symlink", f"symlink to {target!r} is broken")])
        if entry.size > self.limits.max_file_bytes:
            return ParsedFile(repo, path, [], [Problem(
                "yaml/too-large",
                f"{entry.size} bytes is over the {self.limits.max_file_bytes}-byte limit; file not read")])
        if self.shared is not None and entry.blob is not None and entry.blob in self.shared:
            docs, problems, text = self.shared[entry.blob]
            return ParsedFile(repo, path, docs, problems, text)
        try:
            data = source.read(real_path)
        except (OSError, SourceError) as exc:
            return ParsedFile(repo, path, [], [Problem("yaml/encoding", f"cannot read file: {exc}")])
        blob = entry.blob or blob_id(data)
        if path == real_path:
            self._blobs[(repo, path)] = blob
        if self.shared is not None and blob in self.shared:
            docs, problems, text = self.shared[blob]
            return ParsedFile(repo, path, docs, problems, text)
        cacheable = path.endswith(YAML_SUFFIXES)
        if self.disk_cache is not None and cacheable:
            cached = self.disk_cache.get("yaml", blob)
            if cached is not None:
                docs, problems, text = load_yaml(cached, self.limits)
                return ParsedFile(repo, path, docs, problems, text)
        parsed = self._parse(repo, path, data)
        if self.shared is not None and cacheable:
            self.shared[blob] = (parsed.documents, parsed.problems, parsed.text)
        if self.disk_cache is not None and cacheable:
            self.disk_cache.put("yaml", blob, dump_yaml(parsed.documents, parsed.problems, parsed.text))
        return parsed

    def _parse(self, repo: str, path: str, data: bytes) -> ParsedFile:
        if len(data) > self.limits.max_file_bytes:  # the file grew after listing
            return ParsedFile(repo, path, [], [Problem("yaml/too-large", "file over the size limit; not read")])
        text, problem = decode_text(data)
        if problem is not None or text is None:
            return ParsedFile(repo, path, [], [problem] if problem else [])
        if path.endswith(".json"):
            docs, problems = parse_json_text(text)
            if not problems:
                # Valid JSON is read again as YAML only for the line of every key.
                ydocs, yproblems = parse_yaml_text(text, self.limits)
                if ydocs and not any(p.fatal for p in yproblems):
                    docs = [ydocs[0].with_value(docs[0].value)]
                    problems = [p for p in yproblems if p.check == "yaml/duplicate-key"]
        else:
            docs, problems = parse_yaml_text(text, self.limits)
        return ParsedFile(repo, path, docs, problems, text)
