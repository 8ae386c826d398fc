"""The fixture language of the checks' docstring examples: files per repository, written as text.

An example that needs more than one snippet in one file is a list of files, each under a header
(after Go's txtar archives):

    -- [infra:]PATH --                 the lines below it, up to the next header, are the file
    -- [infra:]PATH -> TARGET --       a symbolic link to TARGET
    -- [infra:]PATH (absent) --        the small layout's file of that name is removed
    -- [infra:]PATH (submodule) --     a gitlink: a submodule at another repository's commit
    -- [infra:]PATH (bytes) --         the text below, UTF-8 but `\\xNN` is that byte
    -- [infra:]PATH (6 MiB) --         the text below, repeated to at least that size (or KiB)
    -- [infra:]PATH (signers) --       an allowed-signers file naming the example's SSH signing key
    -- pull request --                 the files below are a commit on a branch: the run is PR mode
    -- pull request (signed) --        idem, the commit signed with the example's SSH key

`infra:` puts the file in platform-infrastructure (default: customer-configs); `\\xNN` in a PATH
is that byte (a name that is not UTF-8)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CONFIGS, INFRA = "customer-configs", "platform-infrastructure"
HEADER = re.compile(r"^-- (.+?) --$")
MODIFIER = re.compile(r"^(.*?)(?: \((absent|submodule|bytes|signers|\d+ [KM]iB|signed)\))?$")


@dataclass
class FileSpec:
    repo: str
    path: bytes  # bytes: a name need not be UTF-8
    content: bytes = b""
    link: str | None = None
    absent: bool = False
    submodule: bool = False
    signers: bool = False
    escapes: bool = False  # `\\xNN` in the text is that byte
    size: int = 0  # repeat the text to at least this many bytes


@dataclass
class Fixture:
    base: list[FileSpec] = field(default_factory=list)
    pull_request: list[FileSpec] | None = None
    signed: bool = False

    @property
    def git_mode(self) -> bool:
        """Something only a git tree holds (a gitlink): read the committed tree, not the folder."""
        return any(f.submodule for f in self.base)

    def files(self) -> list[FileSpec]:
        return [*self.base, *(self.pull_request or [])]


def is_fixture(text: str) -> bool:
    return bool(HEADER.match(text.splitlines()[0].strip())) if text.strip() else False


def _bytes(text: str) -> bytes:
    """UTF-8, with each `\\xNN` the byte it names."""
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))


def _path(raw: str) -> tuple[str, bytes]:
    repo = CONFIGS
    if raw.startswith("infra:"):
        repo, raw = INFRA, raw[len("infra:"):]
    return repo, _bytes(raw)


def _size(modifier: str | None) -> int:
    if not modifier or not modifier.endswith("iB"):
        return 0
    number, unit = modifier.split()
    return int(number) * (1024 * 1024 if unit == "MiB" else 1024)


def parse(text: str) -> Fixture:
    """The fixture an example's text describes; a line before the first header is an error."""
    fixture = Fixture()
    target = fixture.base
    current: FileSpec | None = None
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        data = "\n".join(body).strip("\n")
        raw = b""
        if data:
            raw = _bytes(data + "\n") if current.escapes else (data + "\n").encode("utf-8")
        if current.size:
            raw = raw * (current.size // max(len(raw), 1) + 1)
        current.content = raw

    for line in text.splitlines():
        m = HEADER.match(line.strip())
        if not m:
            if current is None:
                raise ValueError(f"fixture text before the first `-- path --` header: {line!r}")
            body.append(line)
            continue
        close()
        body, current = [], None
        head, modifier = MODIFIER.match(m.group(1)).groups()  # type: ignore[union-attr]
        if head == "pull request":
            fixture.pull_request = target = []
            fixture.signed = modifier == "signed"
            continue
        link = None
        if " -> " in head:
            head, link = head.split(" -> ", 1)
        repo, path = _path(head)
        current = FileSpec(repo, path, link=link, absent=modifier == "absent", submodule=modifier == "submodule",
                           signers=modifier == "signers", escapes=modifier == "bytes", size=_size(modifier))
        target.append(current)
    close()
    return fixture


def write(root: Path, spec: FileSpec, signers_line: str | None) -> None:
    """One file of the fixture into its repository's folder (links and removals too)."""
    import os

    path = Path(os.fsdecode(os.fsencode(str(root)) + b"/" + spec.path))
    if spec.absent:
        path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    if spec.link is not None:
        path.symlink_to(spec.link)
    elif spec.signers:
        assert signers_line, "a (signers) file needs a signed pull request"
        path.write_text(signers_line + "\n")
    elif not spec.submodule:
        path.write_bytes(spec.content)
