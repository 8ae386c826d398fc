"""An ApplicationSet template read as a list of templated strings: rendering an Application is
rendering those strings, in the order `gotemplate.tree_renderer` renders them, and a field of the
Application is read from them (or from the template, where nothing at or below it is templated)
without building the Application's tree -- once per generated Application, thousands of them.

A template with a templated map key (its shape can change from one Application to the next) has
no such plan (`strings` is None): its tree is rendered whole, as before."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from checks.core.findings import KeyPath
from checks.engines.gotemplate import plain_lookup, plain_plan, render, tree_renderer


class _TemplatedKey(Exception):
    pass


class TemplatePlan:
    """A template's templated strings (`strings`, in the renderer's order), the position of each
    (`index`: key path -> index into them) and every key path at or above one (`under`)."""

    __slots__ = ("_getters", "_program", "_renderer", "index", "strings", "template", "under")

    def __init__(self, template: Any) -> None:
        self.template = template
        strings: list[str] = []
        index: dict[KeyPath, int] = {}
        under: set[KeyPath] = set()
        try:
            _walk(template, (), strings, index, under)
        except _TemplatedKey:
            self.strings: tuple[str, ...] | None = None
            self.index: dict[KeyPath, int] = {}
            self.under: frozenset[KeyPath] = frozenset()
        else:
            self.strings = tuple(strings)
            self.index = index
            self.under = frozenset(under)
        self._renderer: Any = False  # built on first use: a manifest, or a template with templated keys
        self._program: tuple | None = None
        self._getters: dict[KeyPath, Callable[[Any], Any]] = {}  # see `value`

    @property
    def renderer(self) -> Any:
        """tree_renderer(template): None when nothing in it is templated."""
        if self._renderer is False:
            self._renderer = tree_renderer(self.template)
        return self._renderer

    @property
    def templated(self) -> bool:
        return bool(self.strings) if self.strings is not None else self.renderer is not None

    def go_program(self) -> tuple[tuple, tuple]:
        """The strings as Go templates, for `render_go`: (the distinct lookups of the strings that are
        only text and lookups (gotemplate.plain_plan); for each string, the number of its lookup when it
        is one lookup alone, else its text and lookup numbers, or None: the general machinery renders it)."""
        if self._program is None:
            lookups: dict[tuple, int] = {}
            steps: list[Any] = []
            for text in self.strings or ():
                plan = plain_plan(text)
                step = None if plan is None else tuple(
                    part if type(part) is str else lookups.setdefault(part, len(lookups)) for part in plan)
                steps.append(step[0] if step is not None and len(step) == 1 and type(step[0]) is int else step)
            self._program = (tuple(lookups), tuple(steps))
        return self._program

    def render_go(self, params: Any, mode: int, strings: dict[str, str]) -> list[str]:
        """The strings rendered as Go templates over `params` (gotemplate.render's results, errors in
        the same order): each lookup the strings share done once per Application. Equal results are one
        object, kept in `strings`."""
        lookups, steps = self.go_program()
        found = [plain_lookup(params, lookup) for lookup in lookups]
        keep = strings.setdefault
        out = []
        for text, step in zip(self.strings or (), steps, strict=True):
            if type(step) is int:
                rendered = found[step]
            elif step is not None:
                pieces: list[Any] = [found[p] if type(p) is int else p for p in step]
                rendered = "".join(pieces) if None not in pieces else None
            else:
                rendered = None
            if rendered is None:
                rendered = render(text, params, mode)
            out.append(keep(rendered, rendered))
        return out

    def rendered(self, record: tuple[str, ...] | list[str] | None) -> Any:
        """The whole rendered template (a new tree where anything is templated; untemplated subtrees shared)."""
        if record is None or self.renderer is None:
            return self.template
        replay = iter(record).__next__
        return self.renderer(lambda _: replay())

    def value(self, path: KeyPath, record: tuple[str, ...] | list[str] | None) -> Any:
        """The rendered value at `path` (map keys, list indexes), None where there is none; built
        only below `path`. `record`: the strings the plan's `strings` rendered to (None: not rendered)."""
        if record is None:
            return _get(self.template, path)
        if self.strings is None:
            return _get(self.rendered(record), path)
        get = self._getters.get(path)
        if get is None:  # the few paths checks read, for every Application of the template
            get = self._getters[path] = self.getter(path)
        return get(record)

    def getter(self, path: KeyPath, default: Any = None) -> Any:
        """A function of the rendered strings giving the value at `path` (`default` where the
        template has nothing there): worked out once per template, called per Application."""
        if self.strings is None:
            raise ValueError("a template with templated map keys is rendered whole")
        found, node = _lookup(self.template, path)
        if not found:
            return lambda record: default
        if path not in self.under:
            return lambda record: node
        return self._compose(node, path)

    def _compose(self, node: Any, path: KeyPath) -> Callable[[Any], Any]:
        if path not in self.under:
            return lambda record: node
        if isinstance(node, str):
            return operator.itemgetter(self.index[path])
        if isinstance(node, dict):
            entries = [(k, self._compose(v, (*path, k))) for k, v in node.items()]
            return lambda record: {k: get(record) for k, get in entries}
        items = [self._compose(v, (*path, i)) for i, v in enumerate(node)]
        return lambda record: [get(record) for get in items]


def _walk(node: Any, path: KeyPath, strings: list[str], index: dict[KeyPath, int], under: set[KeyPath]) -> bool:
    """Collect the templated strings depth first, map entries and list items in order, as
    tree_renderer visits them; whether anything at or below `node` is templated."""
    found = False
    if isinstance(node, str):
        if "{{" in node:
            index[path] = len(strings)
            strings.append(node)
            found = True
    elif isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and "{{" in k:
                raise _TemplatedKey
            found = _walk(v, (*path, k), strings, index, under) or found
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found = _walk(v, (*path, i), strings, index, under) or found
    if found:
        under.add(path)
    return found


def _lookup(value: Any, path: KeyPath) -> tuple[bool, Any]:
    """(whether `path` names something, what): map keys in maps, in-range integer indexes in lists."""
    for part in path:
        if isinstance(value, dict):
            if part not in value:
                return False, None
            value = value[part]
        elif isinstance(value, list) and type(part) is int and 0 <= part < len(value):
            value = value[part]
        else:
            return False, None
    return True, value


def _get(value: Any, path: KeyPath) -> Any:
    return _lookup(value, path)[1]
