"""`yaml/*`: every YAML file is readable, safe and shaped as Helm and ArgoCD expect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from checks.core.findings import Finding, Severity
from checks.model.platform import CONFIGS, INFRA
from checks.repo.documents import Problem
from checks.repo.globs import glob_any
from checks.runner.context import Shared
from checks.runner.registry import Check, register

if TYPE_CHECKING:
    from checks.runner.context import Context


class _ProblemIndex:
    """The parser's problems of every YAML file in scope, by check id: gathered in one pass over
    the files for the eight checks below (each walked them all), again when the files in scope
    are another list (a diff's scope, a worker's part)."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str]] | None = None
        self.by_check: dict[str, list[tuple[str, str, Problem]]] = {}

    def of(self, ctx: Context, check: str) -> list[tuple[str, str, Problem]]:
        files = ctx.yaml_files()
        if self.files is not files:
            by_check: dict[str, list[tuple[str, str, Problem]]] = {}
            get = ctx.store.get
            for repo, path in files:
                parsed = get(repo, path)
                if parsed is None:
                    continue
                for p in parsed.problems:
                    if p.check in by_check:
                        by_check[p.check].append((repo, path, p))
                    else:
                        by_check[p.check] = [(repo, path, p)]
            self.files, self.by_check = files, by_check
        return self.by_check.get(check, [])


_PROBLEMS: Shared[_ProblemIndex] = Shared("yaml-problems")


class _ProblemCheck(Check):
    """Reports the parser's problems of this check's id, file by file."""

    def run(self, ctx: Context) -> Iterator[Finding]:
        for repo, path, p in ctx.shared(_PROBLEMS, _ProblemIndex).of(ctx, self.id):
            yield self.finding(p.message, repo=repo, path=path, line=p.line, column=p.column, key_path=p.key_path,
                               discriminator=f"{p.line}" if not p.key_path else "")


@register
class Syntax(_ProblemCheck):
    """YAML syntax errors, with the line and column libyaml reports.

    A file that does not parse is an error, never skipped: the units that use it are
    not evaluated, and the run fails.

    Passes:   replicaCount: 2
    Fails:    replicaCount: 2: 3      (mapping values are not allowed here)
    """

    id = "yaml/syntax"


@register
class DuplicateKey(_ProblemCheck):
    """Duplicate keys in one mapping, reported at the second occurrence.

    PyYAML and Helm silently keep the last value, so the first one is dead text a
    reviewer will believe.

    Passes:   image: {tag: "1.2"}
    Fails:    image:
                tag: "1.2"
                tag: "1.3"
    """

    id = "yaml/duplicate-key"


@register
class UnsafeTag(_ProblemCheck):
    """Python-specific tags such as `!!python/object/apply` -- never constructed.

    Passes:   command: ["echo", "hi"]
    Fails:    command: !!python/object/apply:os.system ["echo hi"]
    """

    id = "yaml/unsafe-tag"


@register
class UnknownTag(_ProblemCheck):
    """Tags outside YAML's core schema (`!vault`, `!Ref`...): Helm ignores them and reads plain data.

    Passes:   password: "<path:secret/data/acme#password>"
    Fails:    password: !vault secret/data/acme
    """

    id = "yaml/unknown-tag"
    severity = Severity.WARNING


@register
class Limits(_ProblemCheck):
    """Alias expansion bombs ("billion laughs") and absurd nesting, rejected before they can hang a run.

    Options (settings `limits`): `max_yaml_nodes` (nodes after alias expansion,
    default 250000) and `max_yaml_depth` (default 100).

    Passes:   defaults: &d {cpu: 100m}
              prod: *d
    Fails:    a: &a [x, x, x, x, x, x, x, x, x]
              b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
              c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
              d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
              e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
              f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]   (9^6 = 531,441 nodes once expanded)
    """

    id = "yaml/limits"


@register
class Encoding(_ProblemCheck):
    """Files that are binary or not UTF-8 where YAML text is expected.

    Passes:   -- customers/acme/configs/menu.yaml (bytes) --
              \\xef\\xbb\\xbfdrink: café      (UTF-8; a byte-order mark is accepted)
    Fails:    -- customers/acme/configs/menu.yaml (bytes) --
              drink: caf\\xe9      (Latin-1)
    Fails:    -- customers/acme/configs/menu.yaml (bytes) --
              drink: \\x00\\x00      (NUL bytes)
    """

    id = "yaml/encoding"


@register
class TooLarge(_ProblemCheck):
    """Files over the size limit (settings `limits.max_file_bytes`, default 5 MiB) are not read.

    Passes:   -- customers/acme/configs/big.yaml (1 MiB) --
              # one line of a large but ordinary file
    Fails:    -- customers/acme/configs/dump.yaml (6 MiB) --     (committed by mistake)
              # one line of a database dump
    """

    id = "yaml/too-large"


@register
class Symlink(_ProblemCheck):
    """Symlinks that leave the repository (or are broken) are never followed.

    Passes:   -- customers/acme/billing/values.yaml -> ../../../shared/values.yaml --   (inside the repo)
              -- shared/values.yaml --
              replicaCount: 2
    Fails:    -- customers/acme/billing/values.yaml -> /etc/passwd --
    """

    id = "yaml/symlink"


# Files whose top-level value Helm or this suite reads as a mapping.
_MAPPING_FILES = {
    CONFIGS: (
        "products/*/base-values.yaml",
        "products/*/environments/*.yaml",
        "customers/*/*/values.yaml",
        "customers/*/*/environments/*.yaml",
        "customers/*/metadata.yaml",
    ),
    INFRA: ("products/*/values.yaml", "products/*/Chart.yaml"),
}


@register
class NotAMapping(Check):
    """Values files, metadata.yaml and Chart.yaml must hold a mapping at the top level.

    Helm refuses a values file whose top level is a list or a scalar, so every unit
    that uses it would fail to render.

    Passes:   replicaCount: 2
    Fails:    - replicaCount: 2
    """

    id = "yaml/not-a-mapping"
    patterns: ClassVar[dict[str, tuple[str, ...]]] = _MAPPING_FILES

    def run(self, ctx: Context) -> Iterator[Finding]:
        matchers = {repo: glob_any(patterns, "pathmatch") for repo, patterns in self.patterns.items()}
        for repo, path in ctx.yaml_files():
            if repo not in matchers or not matchers[repo](path):
                continue
            parsed = ctx.store.get(repo, path)
            if parsed is None or not parsed.ok:
                continue
            for i, doc in enumerate(parsed.documents):
                if doc.value is None or isinstance(doc.value, dict):
                    continue
                kind = "list" if isinstance(doc.value, list) else type(doc.value).__name__
                pos = doc.positions.get(())
                yield self.finding(
                    f"top-level value is a {kind}, a mapping is required"
                    + (f" (document {i + 1})" if len(parsed.documents) > 1 else ""),
                    repo=repo, path=path, line=pos[0] if pos else 1, column=pos[1] if pos else None,
                    discriminator=str(i))
