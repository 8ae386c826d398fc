"""`terraform/*`: module calls resolve, are pinned, and pass only arguments the module declares."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from checks.core.findings import Finding, Severity
from checks.engines.terraform import Block, ModuleSource, TerraformStore, TfFile, classify_source
from checks.model.platform import CONFIGS
from checks.runner.registry import Check, Option, register
from checks.scope.selection import shard_key

if TYPE_CHECKING:
    from checks.runner.context import Context

META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}
SHARED_ROOT = "shared/terraform-modules/"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
_TAGLIKE = re.compile(r"^(refs/tags/|tags/)?v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.-]+)?$")
_EXACT_VERSION = re.compile(r"^=?\s*v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def tf_store(ctx: Context) -> TerraformStore:
    return ctx.terraform()


def in_scope_dirs(ctx: Context) -> list[str]:
    """Customer and shared module directories; in PR mode a change to a shared module re-checks every caller."""
    store = tf_store(ctx)
    scope = ctx.scope
    dirs = sorted(d for d in store.dirs() if d.startswith(("customers/", SHARED_ROOT)))
    every = scope.full or any(p.startswith(SHARED_ROOT) for p in scope.files.get(CONFIGS, set()))
    # a directory belongs to the shard (or worker part) of its customer, like its files
    return [d for d in dirs if scope.in_shard(shard_key(CONFIGS, d + "/main.tf"))
            and (every or scope.includes_file(CONFIGS, d + "/main.tf"))]


def module_calls(ctx: Context, directory: str) -> Iterator[tuple[TfFile, Block]]:
    for tf in tf_store(ctx).module(directory):
        for block in tf.of_type("module"):
            yield tf, block


def customer_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "customers" else None


def resolve_local(directory: str, source: str) -> str:
    return posixpath.normpath(posixpath.join(directory, source))


@register
class Syntax(Check):
    """Every `.tf` file parses (tree-sitter-hcl); a syntax error is reported at its line and column.

    Passes:   module "db" { source = "../../../shared/terraform-modules/database" }
    Fails:    module "db" { source = "../../../shared/terraform-modules/database"      (no closing brace)
    """

    id = "terraform/syntax"
    subject = "terraform"

    def run(self, ctx: Context) -> Iterator[Finding]:
        store = tf_store(ctx)
        for directory in in_scope_dirs(ctx):
            for tf in store.module(directory):
                if tf.error:
                    message, line, column = tf.error
                    yield self.finding(message, repo=CONFIGS, path=tf.path, line=line, column=column,
                                       customer=customer_of(tf.path))


@register
class ModuleSourceCheck(Check):
    """Module `source`s are classified as Terraform does, and each kind is held to its rules.

    Local (`./`, `../`): resolved from the calling file's folder, the target exists and
    holds `.tf` files, stays inside the repository, under `allowed_roots` (default
    `shared/terraform-modules/`; a customer's own folder is always allowed), and never in
    another customer's folder. Remote: the host is in `allowed_hosts` (default empty: no
    remote modules); a git or hg source has a `ref` that is not a default branch and, by
    `pinning` policy, a tag or a full commit SHA (`tag-or-sha`, default; also `sha`,
    `semver`, `flexible`); a registry source has a `version`, exact under
    `registry_version: exact`; `version` on anything but the registry is an error;
    `//subdir` comes before `?ref=`. With `allowed_hosts: [git.example.com]`,
    `git::https://git.example.com/modules.git//vpc?ref=v1.4.0` passes and `...?ref=main` fails
    (a default branch); with the default settings both fail (no remote host is allowed).

    Passes:   source = "../../../shared/terraform-modules/database"
              source = "./modules/network"      (the customer's own folder)
    Fails:    source = "../../other-customer/terraform"
              source = "git::https://git.example.com/modules.git?ref=main"
    """

    id = "terraform/module-source"
    subject = "terraform"
    options: ClassVar[dict[str, Option]] = {
        "allowed_roots": Option([SHARED_ROOT], list, items=str, help="folders local modules may live in"),
        "allowed_hosts": Option([], list, items=str, help="hosts remote modules may come from"),
        "default_branches": Option(["main", "master", "develop", "development", "trunk", "default", "HEAD"], list,
                                   items=str, help="refs that are branches, never a pin"),
        "pinning": Option("tag-or-sha", str, choices=("tag-or-sha", "sha", "semver", "flexible")),
        "registry_version": Option("exact", str, help="exact: a registry module's version is one version"),
    }

    def run(self, ctx: Context) -> Iterator[Finding]:
        files = ctx.sources[CONFIGS].files()
        self._tf_dirs = set(tf_store(ctx).dirs())  # folders holding .tf files
        for directory in in_scope_dirs(ctx):
            for tf, block in module_calls(ctx, directory):
                attr = block.attributes.get("source")
                where: dict[str, Any] = {"repo": CONFIGS, "path": tf.path, "customer": customer_of(tf.path),
                         "key_path": ("module", block.labels[0] if block.labels else "")}
                if attr is None:
                    yield self.finding(f"module {block.labels[:1]} has no source", line=block.line, **where)
                    continue
                if attr.literal is None:
                    yield self.finding("source must be a literal string (Terraform does not allow expressions)",
                                       line=attr.line, column=attr.column, **where)
                    continue
                source = classify_source(attr.literal)
                version = block.attributes.get("version")
                for message in self._problems(directory, source, version is not None, version, files):
                    line = version.line if version is not None and "version" in message else attr.line
                    yield self.finding(message, line=line, discriminator=message, **where)

    def _problems(self, directory: str, source: ModuleSource, has_version: bool, version, files) -> Iterator[str]:
        cfg = self.config
        if source.kind == "local":
            yield from self._local(directory, source.raw, files)
            if has_version:
                yield "version is only valid for registry sources; remove it from this local module"
            return
        if source.kind == "unknown":
            yield f"cannot tell what kind of module source {source.raw!r} is (local paths start with ./ or ../)"
            return
        allowed = cfg["allowed_hosts"]
        if source.host not in allowed:
            yield (f"remote module host {source.host!r} is not allowed "
                   f"(allowed_hosts: {', '.join(allowed) if allowed else 'none'})")
        if source.kind == "registry":
            if version is None:
                yield "registry module without a version: every init may pull a different release"
            elif version.literal is not None and cfg["registry_version"] == "exact" \
                    and not _EXACT_VERSION.match(version.literal.strip()):
                yield f"version {version.literal!r} is a range; pin an exact version"
            return
        if has_version:
            yield f"version is only valid for registry sources, not {source.kind}; pin with ?ref= instead"
        if source.subdir_after_query:
            yield "the //subdirectory must come before ?ref= (Terraform reads it as part of the ref otherwise)"
        if source.kind in ("git", "hg"):
            yield from self._pin(source)

    def _pin(self, source: ModuleSource) -> Iterator[str]:
        ref = source.ref
        word = "ref" if source.kind == "git" else "rev"
        if not ref:
            yield f"{source.kind} source is not pinned: add ?{word}= with a tag or a commit"
            return
        if ref in self.config["default_branches"]:
            yield f"{source.kind} source follows the default branch {ref!r}: it changes under you"
            return
        policy = self.config["pinning"]
        if policy == "sha" and not _SHA.match(ref):
            yield f"{word} {ref!r} is not a full commit SHA (pinning: sha)"
        elif policy == "semver" and not _SEMVER.match(ref):
            yield f"{word} {ref!r} is not a semantic version tag (pinning: semver)"
        elif policy == "tag-or-sha" and not (_SHA.match(ref) or _TAGLIKE.match(ref)):
            yield f"{word} {ref!r} looks like a branch; pin a tag or a full commit SHA (pinning: tag-or-sha)"

    def _local(self, directory: str, raw: str, files) -> Iterator[str]:
        target = resolve_local(directory, raw)
        if target == ".." or target.startswith("../"):
            yield f"local source {raw!r} leaves the repository"
            return
        parts = target.split("/")
        for i in range(1, len(parts) + 1):
            entry = files.get("/".join(parts[:i]))
            if entry is not None and entry.is_symlink:
                yield f"local source {raw!r} goes through a symlink ({'/'.join(parts[:i])}); not followed"
                return
        # what the path really is comes first: a missing target is missing, whatever folder it names
        # (`../../shared/x` from customers/acme/terraform is customers/shared/x, most often a ../ short)
        if target not in self._tf_dirs:
            yield f"local module {target} does not exist or holds no .tf files"
            return
        caller, owner = customer_of(directory + "/x"), customer_of(target + "/x")
        if caller and owner and caller != owner:
            yield f"customer {caller} must not use another customer's module ({target})"
            return
        roots = [r.rstrip("/") + "/" for r in self.config["allowed_roots"]]
        own = f"customers/{caller}/" if caller else None
        if not any((target + "/").startswith(r) for r in roots) and not (own and (target + "/").startswith(own)):
            yield f"local module {target} is outside the allowed roots ({', '.join(roots)})"


_BACKEND = re.compile(r'backend\s+"([^"]+)"\s*\{([^{}]*)\}', re.S)
_ATTR = re.compile(r'^\s*(\w+)\s*=\s*"([^"$]*)"\s*$', re.M)


def quick_backends(path: str, data: bytes | None) -> TfFile:
    """Backend blocks found by a pattern, without a full parse (for files out of a PR's scope)."""
    from checks.engines.terraform import Attribute

    if data is None:
        return TfFile(path)
    text = data.decode("utf-8", "replace")
    terraform = Block("terraform", [], 0)
    for m in _BACKEND.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        backend = Block("backend", [m.group(1)], line)
        for a in _ATTR.finditer(m.group(2)):
            backend.attributes[a.group(1)] = Attribute(a.group(1), line, 1, a.group(2))
        terraform.blocks.append(backend)
    return TfFile(path, [terraform] if terraform.blocks else [])


def module_variables(ctx: Context, directory: str) -> dict[str, bool] | None:
    """variable name -> has a default, for a local module; None when it cannot be read."""
    files = tf_store(ctx).module(directory)
    if not files or any(f.error for f in files):
        return None
    out: dict[str, bool] = {}
    for tf in files:
        for block in tf.of_type("variable"):
            if block.labels:
                out[block.labels[0]] = "default" in block.attributes
    return out


@register
class ModuleArguments(Check):
    """A local module call passes only the module's declared variables, and every variable
    without a default.

    Meta-arguments (`source`, `version`, `count`, `for_each`, `providers`, `depends_on`)
    aside, an argument the module does not declare is an error at its line; a required
    variable the call does not set is an error at the module block; `count` together
    with `for_each` is an error.

    Passes:   module "db" { source = "../../../shared/terraform-modules/database"
                            customer_id = var.customer_id }
    Fails:    module "db" { source = "../../../shared/terraform-modules/database"
                            size_gb = 50 }        (no variable "size_gb"; customer_id unset)
    """

    id = "terraform/module-arguments"
    subject = "terraform"

    def run(self, ctx: Context) -> Iterator[Finding]:
        declared_by_module: dict[str, dict[str, bool] | None] = {}  # a shared module has a caller per customer
        for directory in in_scope_dirs(ctx):
            for tf, block in module_calls(ctx, directory):
                name = block.labels[0] if block.labels else ""
                where: dict[str, Any] = {"repo": CONFIGS, "path": tf.path, "customer": customer_of(tf.path)}
                if "count" in block.attributes and "for_each" in block.attributes:
                    attr = block.attributes["for_each"]
                    yield self.finding(f"module {name}: count and for_each cannot be used together", line=attr.line,
                                       key_path=("module", name, "for_each"), **where)
                source = block.attributes.get("source")
                if source is None or source.literal is None or classify_source(source.literal).kind != "local":
                    continue
                target = resolve_local(directory, source.literal)
                caller, owner = customer_of(directory + "/x"), customer_of(target + "/x")
                if target.startswith("..") or (caller and owner and caller != owner):
                    continue  # refused by terraform/module-source; its variables are not this call's business
                if target in declared_by_module:
                    declared = declared_by_module[target]
                else:
                    declared = declared_by_module[target] = module_variables(ctx, target)
                if declared is None:
                    continue  # missing or unparseable: terraform/module-source and terraform/syntax report it
                for arg, attr in block.attributes.items():
                    if arg not in META_ARGUMENTS and arg not in declared:
                        yield self.finding(f"module {name}: {target} declares no variable {arg!r}", line=attr.line,
                                           column=attr.column, key_path=("module", name, arg), **where)
                for var, has_default in sorted(declared.items()):
                    if not has_default and var not in block.attributes:
                        yield self.finding(f"module {name}: required variable {var!r} of {target} is not set",
                                           line=block.line, key_path=("module", name, var), **where)


@register
class Structure(Check):
    """Module and state structure: no duplicate module names in one folder; no `provider` or
    `backend` inside a shared module (modules must not configure providers or state); at
    most one backend per customer; no two customers sharing a backend state key.

    Passes:   -- customers/acme/terraform/backend.tf --
              terraform {
                backend "s3" { key = "customers/acme/terraform.tfstate" }
              }
    Fails:    -- customers/acme/terraform/backend.tf --
              terraform {
                backend "s3" { key = "customers/acme/terraform.tfstate" }
              }
              -- customers/globex/terraform/backend.tf --     (globex would overwrite acme's state)
              terraform {
                backend "s3" { key = "customers/acme/terraform.tfstate" }
              }
    Fails:    -- shared/terraform-modules/database/provider.tf --     (a shared module configures a provider)
              provider "aws" { region = "eu-west-1" }
    """

    id = "terraform/structure"
    subject = "terraform"

    def run(self, ctx: Context) -> Iterator[Finding]:
        store = tf_store(ctx)
        dirs = in_scope_dirs(ctx)
        for directory in dirs:
            seen: dict[str, str] = {}
            for tf, block in module_calls(ctx, directory):
                name = block.labels[0] if block.labels else ""
                if name in seen:
                    yield self.finding(f"module {name!r} is declared twice in {directory} (first in {seen[name]})",
                                       repo=CONFIGS, path=tf.path, line=block.line, key_path=("module", name),
                                       customer=customer_of(tf.path))
                seen.setdefault(name, tf.path)
            if directory.startswith(SHARED_ROOT):
                for tf in store.module(directory):
                    for block in tf.of_type("provider"):
                        yield self.finding(f"shared module configures provider {block.labels[:1]}: let the caller "
                                           "pass providers", repo=CONFIGS, path=tf.path, line=block.line,
                                           key_path=("provider", *block.labels[:1]))
                    for block in tf.of_type("terraform"):
                        for backend in block.children("backend"):
                            yield self.finding("shared module configures a backend: state belongs to the caller",
                                               repo=CONFIGS, path=tf.path, line=backend.line,
                                               key_path=("backend", *backend.labels[:1]))
        yield from self._backends(ctx, store)

    def _backends(self, ctx: Context, store: TerraformStore) -> Iterator[Finding]:
        # State keys must be unique across all customers, so every customer is read here: parsed
        # in scope, and outside it (in PR mode) only scanned for backend blocks, which is enough to
        # collide with -- findings are only ever reported on files in scope.
        by_customer: dict[str, list[tuple[TfFile, Block]]] = {}
        customer_dirs = [(d, c) for d in sorted(store.dirs()) if (c := customer_of(d + "/x"))]
        outside = [p for d, _ in customer_dirs for p in store.dirs()[d] if not ctx.scope.includes_file(CONFIGS, p)]
        raw = store.source.read_many(outside)  # one exchange with git for every file out of scope
        for directory, customer in customer_dirs:
            for path in store.dirs()[directory]:
                tf = store.file(path) if ctx.scope.includes_file(CONFIGS, path) else quick_backends(path, raw.get(path))
                for block in tf.of_type("terraform"):
                    for backend in block.children("backend"):
                        by_customer.setdefault(customer, []).append((tf, backend))
        keys: dict[tuple, str] = {}
        for customer, backends in sorted(by_customer.items()):
            for extra_tf, extra in backends[1:]:
                if ctx.scope.includes_file(CONFIGS, extra_tf.path):
                    first = backends[0][0].path
                    yield self.finding(f"customer {customer} has more than one backend (first in {first})",
                                       repo=CONFIGS, path=extra_tf.path, line=extra.line, customer=customer,
                                       key_path=("backend",))
            for tf, backend in backends:
                ident = tuple((k, a.literal) for k, a in sorted(backend.attributes.items())
                              if k in ("bucket", "key", "prefix", "path", "container_name", "workspace_key_prefix"))
                if not ident or any(v is None for _, v in ident):
                    continue
                other = keys.get((backend.labels[:1] and backend.labels[0], ident))
                if other is not None and other != customer:
                    if ctx.scope.includes_file(CONFIGS, tf.path):
                        attr = backend.attributes.get("key") or backend.attributes.get("prefix")
                        yield self.finding(f"backend state of customer {customer} collides with customer {other}'s "
                                           "(same bucket and key): one would overwrite the other's state",
                                           severity=Severity.ERROR, repo=CONFIGS, path=tf.path,
                                           line=attr.line if attr else backend.line, customer=customer,
                                           key_path=("backend", "key"))
                else:
                    keys[(backend.labels[:1] and backend.labels[0], ident)] = customer
