"""Rego policies: loading with syntax errors located, and two engines that give the same answers.

- `regorus`: the embedded Regorus interpreter (PyPI `gordon-to-regorus`), so policies run
  on every laptop and in CI without installing anything else.
- `conftest`: the conftest CLI through subprocess (no shell), many inputs per call,
  `--output json --no-fail`, with OPA capabilities that leave out the builtins reaching the
  network or the environment; conftest's own errors are an `EngineError`, never a pass.

Conventions are conftest's: `deny*`/`violation*` rules are errors, `warn*` warnings, and
`exception contains rules if {... rules := ["<name>"]}` turns off `deny_<name>`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.core.settings import conftest_binary

_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
_ERROR = re.compile(r"^error:\s*(?P<msg>.+)$", re.MULTILINE)
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)", re.MULTILINE)
_RULE = re.compile(r"^(deny|violation|warn)(_\w+)?$")


class EngineError(Exception):
    """The engine could not evaluate the policies (reported as policy/engine, exit 1)."""


@dataclass(frozen=True)
class PolicyFile:
    label: str  # how findings name it: repo-relative or "policies/..." for the bundled pack
    path: Path
    text: str
    package: str | None

    @property
    def is_test(self) -> bool:
        return self.path.name.endswith("_test.rego")


@dataclass(frozen=True)
class SyntaxProblem:
    policy: PolicyFile
    message: str
    line: int | None
    column: int | None


@dataclass(frozen=True)
class Result:
    kind: str  # "deny" or "warn"
    rule: str
    message: str
    path: tuple | None  # key path into values, when the rule gave one


@dataclass
class PolicySet:
    files: list[PolicyFile] = field(default_factory=list)
    problems: list[SyntaxProblem] = field(default_factory=list)
    untrusted: frozenset[str] = frozenset()  # labels of policies read from a repository

    @property
    def sandboxed(self) -> bool:
        return any(f.label in self.untrusted for f in self.usable)

    @property
    def usable(self) -> list[PolicyFile]:
        bad = {p.policy.path for p in self.problems}
        return [f for f in self.files if f.path not in bad]

    @property
    def packages(self) -> list[str]:
        return sorted({f.package for f in self.usable if f.package and not f.is_test})


def _clean_error(text: str) -> tuple[str, int | None, int | None]:
    text = text.split("Stack backtrace:", 1)[0]
    loc = _LOCATION.search(text)
    err = _ERROR.search(text)
    message = err.group("msg").strip() if err else (text.strip().splitlines() or ["error"])[-1].strip()
    if loc:
        return message, int(loc.group("line")), int(loc.group("col"))
    return message, None, None


def policy_texts_in(prefix: str, directory: Path) -> list[tuple[str, str | None, str | None]]:
    """(label, text, problem) of every `.rego` under a folder of the file system (the bundled
    pack, `policy test DIR`). Symlinks are never followed: a linked file or folder could point
    anywhere on the machine (`/proc/self/environ`)."""
    out: list[tuple[str, str | None, str | None]] = []
    for current, folders, names in os.walk(directory, followlinks=False):
        folders.sort()
        for name in sorted(names):
            if not name.endswith(".rego"):
                continue
            full = Path(current) / name
            label = f"{prefix}/{full.relative_to(directory).as_posix()}"
            if full.is_symlink():
                out.append((label, None, "a symlink; policies are never read through links"))
                continue
            try:
                out.append((label, full.read_text(encoding="utf-8"), None))
            except (OSError, UnicodeDecodeError) as exc:
                out.append((label, None, f"cannot read policy: {type(exc).__name__}"))
    return out


def load_policies(dirs: list[tuple[str, Path]]) -> PolicySet:
    """`dirs` are (label prefix, directory); each .rego is checked for syntax on its own."""
    return load_policy_texts([entry for prefix, directory in dirs for entry in policy_texts_in(prefix, directory)])


def load_policy_texts(entries: list[tuple[str, str | None, str | None]],
                      untrusted: frozenset[str] = frozenset()) -> PolicySet:
    """Policies as (label, text, problem): from the file system or read from a repository at a
    revision. Labels in `untrusted` came from a repository: they are evaluated in a sandbox."""
    import regorus

    result = PolicySet(untrusted=untrusted)
    for label, text, problem in sorted(entries):
        if text is None:
            pf = PolicyFile(label, Path(label), "", None)
            result.files.append(pf)
            result.problems.append(SyntaxProblem(pf, problem or "cannot read policy", None, None))
            continue
        m = _PACKAGE.search(text)
        pf = PolicyFile(label, Path(label), text, m.group(1) if m else None)
        result.files.append(pf)
        if untrusted and label in untrusted:
            continue  # parsed in the sandbox: a parser crash must not take the run with it
        try:
            regorus.Engine().add_policy(pf.label, text)
        except RuntimeError as exc:
            message, line, column = _clean_error(str(exc))
            result.problems.append(SyntaxProblem(pf, f"Rego syntax error: {message}", line, column))
    if untrusted:
        result.problems.extend(_syntax_in_sandbox([f for f in result.files if f.label in untrusted
                                                   and f not in {p.policy for p in result.problems}]))
    # A file may parse alone but clash with others (a rule redefined with another kind).
    if result.usable and not untrusted:
        try:
            _engine(result.usable)
        except RuntimeError as exc:
            message, line, column = _clean_error(str(exc))
            located = _LOCATION.search(str(exc))
            culprit = next((f for f in result.usable if located and f.label == located.group("file")),
                           result.usable[0])
            result.problems.append(SyntaxProblem(culprit, f"Rego error: {message}", line, column))
    return result


def syntax_problems(files: list[PolicyFile]) -> list[list]:
    """[label, message, line, column] of each file that does not parse alone, then of a clash
    between files that parse (a rule redefined with another kind)."""
    import regorus

    out = []
    good = []
    for pf in files:
        try:
            regorus.Engine().add_policy(pf.label, pf.text)
            good.append(pf)
        except RuntimeError as exc:
            message, line, column = _clean_error(str(exc))
            out.append([pf.label, f"Rego syntax error: {message}", line, column])
    if good:
        try:
            _engine(good)
        except RuntimeError as exc:
            message, line, column = _clean_error(str(exc))
            label = _LOCATION.search(str(exc))
            culprit = next((f for f in good if label and f.label == label.group("file")), good[0])
            out.append([culprit.label, f"Rego error: {message}", line, column])
    return out


def _syntax_in_sandbox(files: list[PolicyFile]) -> list[SyntaxProblem]:
    from checks.engines.sandbox import SandboxError, run_in_sandbox

    if not files:
        return []
    by_label = {f.label: f for f in files}
    try:
        answer = run_in_sandbox({"op": "syntax", "policies": [[f.label, f.text] for f in files]})
    except SandboxError as exc:
        return [SyntaxProblem(files[0], f"policies could not be parsed: {exc}", None, None)]
    return [SyntaxProblem(by_label[label], message, line, column) for label, message, line, column in answer
            if label in by_label]


class SandboxedRegorus:
    """Regorus in a child process with CPU and memory limits (see engines/sandbox.py)."""

    name = "regorus (sandboxed)"

    def __init__(self, policies: PolicySet) -> None:
        self.policies = [[f.label, f.text] for f in policies.usable if not f.is_test]

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        return self.evaluate_texts([input_json(d) for d in inputs])

    def evaluate_texts(self, texts: list[str]) -> list[list[Result]]:
        """The inputs go to the child as the texts they are (JSON strings: escaped, not parsed and
        serialised again on either side)."""
        from checks.engines.sandbox import SandboxError, run_in_sandbox

        try:
            answer = run_in_sandbox({"op": "evaluate", "policies": self.policies, "texts": texts})
        except SandboxError as exc:
            raise EngineError(str(exc)) from None
        if not isinstance(answer, list) or len(answer) != len(texts):
            raise EngineError("the policy engine answered for other units than it was given")
        return [[Result(kind, rule, message, tuple(path) if path is not None else None)
                 for kind, rule, message, path in results] for results in answer]


def _engine(files: list[PolicyFile]) -> Any:
    import regorus

    engine = regorus.Engine()
    for pf in files:
        engine.add_policy(pf.label, pf.text)
    return engine


def _results_from_package(value: dict[str, Any]) -> list[Result]:
    excepted: set[str] = set()
    for entry in value.get("exception", []) or []:
        if isinstance(entry, list):
            excepted.update(str(e) for e in entry)
    out: list[Result] = []
    for rule, produced in sorted(value.items()):
        m = _RULE.match(rule)
        if not m:
            continue
        name = (m.group(2) or "_")[1:]
        if name in excepted or (not m.group(2) and "" in excepted):
            continue
        kind = "warn" if m.group(1) == "warn" else "deny"
        items = produced if isinstance(produced, list) else ([produced] if produced not in (None, False) else [])
        for item in items:
            out.append(_result(kind, rule, item))
    return out


def _result(kind: str, rule: str, item: Any) -> Result:
    if isinstance(item, dict):
        path = item.get("path")
        return Result(kind, rule, str(item.get("msg", item)),
                      tuple(path) if isinstance(path, list) and all(isinstance(p, (str, int)) for p in path) else None)
    return Result(kind, rule, str(item) if not isinstance(item, bool) else rule, None)


class RegorusEngine:
    name = "regorus"

    batch = 500  # units per evaluation: one call for many is 2x faster than one call each

    def __init__(self, policies: PolicySet) -> None:
        self.packages = policies.packages
        files = [f for f in policies.usable if not f.is_test]
        self._engine = _engine(files)
        self._sets: set[tuple[str, str]] = set()  # (package, rule) defined by `contains` only
        self._rules = _result_rules(self._engine, files, self._sets)
        self._batched = self._add_batch_module()

    def _package_query(self, package: str) -> str:
        """The package's result rules only (deny*, violation*, warn*, exception), each as a list
        of its value (empty when undefined): asking for `data.<package>` would also compute and
        serialise every helper rule. The whole package when its rules are not known."""
        rules = self._rules.get(package) if self._rules is not None else None
        if rules is None:
            return f"data.{package}"
        # a `contains` rule is never undefined (at least the empty set): asked for as it is, without
        # the comprehension a rule that may be undefined needs (a few microseconds per rule and unit)
        return "{" + ", ".join(f'"{r}": data.{package}.{r}' if (package, r) in self._sets
                               else f'"{r}": [v | v := data.{package}.{r}]' for r in rules) + "}"

    def _add_batch_module(self) -> bool:
        """A module evaluating every package for each of many inputs (`with input as`)."""
        if not self.packages:
            return False
        fields = ", ".join(f'"{i}": {self._package_query(package)}' for i, package in enumerate(self.packages))
        text = (f"package {_BATCH_PACKAGE}\nimport rego.v1\n"
                f"results := [r | some d in input.docs; r := {{{fields}}} with input as d]\n")
        try:
            self._engine.add_policy(f"{_BATCH_PACKAGE}.rego", text)
        except RuntimeError:
            return False
        return True

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        return self.evaluate_texts([input_json(d) for d in inputs])

    def evaluate_texts(self, texts: list[str]) -> list[list[Result]]:
        """Results for inputs already serialised (`input_json`): each text is parsed by Regorus only."""
        out: list[list[Result]] = []
        for start in range(0, len(texts), self.batch):
            chunk = texts[start:start + self.batch]
            results = self._evaluate_texts_batch(chunk) if self._batched else None
            # anything unexpected (an error, an undefined package): one by one, which names the culprit
            out.extend(results if results is not None else [self._evaluate_one_text(t) for t in chunk])
        return out

    def _evaluate_batch(self, documents: list[dict[str, Any]]) -> list[list[Result]] | None:
        return self._evaluate_texts_batch([input_json(d) for d in documents])

    def _evaluate_texts_batch(self, texts: list[str]) -> list[list[Result]] | None:
        try:
            self._engine.set_input_json('{"docs": [' + ", ".join(texts) + "]}")
            value = _first_value(json.loads(self._engine.eval_query_as_json(f"data.{_BATCH_PACKAGE}.results")))
        except RuntimeError:
            return None
        if not isinstance(value, list) or len(value) != len(texts):
            return None
        out = []
        for item in value:
            results: list[Result] = []
            for i, package in enumerate(self.packages):
                package_value = item.get(str(i)) if isinstance(item, dict) else None
                if isinstance(package_value, dict) and self._rules is not None and package in self._rules:
                    sets = self._sets
                    package_value = {rule: found if (package, rule) in sets else found[0]
                                     for rule, found in package_value.items() if found}
                if package_value and isinstance(package_value, dict):  # most units: every rule empty
                    results.extend(_results_from_package(package_value))
            out.append(results)
        return out

    def evaluate_one(self, document: dict[str, Any]) -> list[Result]:
        return self._evaluate_one_text(input_json(document))

    def _evaluate_one_text(self, text: str) -> list[Result]:
        self._engine.set_input_json(text)
        results: list[Result] = []
        for package in self.packages:
            try:
                raw = self._engine.eval_query_as_json(f"data.{package}")
            except RuntimeError as exc:
                raise EngineError(f"regorus failed on package {package}: {_clean_error(str(exc))[0]}") from None
            value = _first_value(json.loads(raw))
            if isinstance(value, dict):
                results.extend(_results_from_package(value))
        return results


def input_json(document: dict[str, Any]) -> str:
    """One input as every engine reads it (a value JSON cannot hold, a date: its text)."""
    return encode_json(document)


# json.dumps(value, default=str), without building an encoder per call
encode_json = json.JSONEncoder(default=str).encode


_BATCH_PACKAGE = "gitops_checks_internal_batch"
_RESULT_RULE = re.compile(r"^(deny|violation|warn)(_\w+)?$|^exception$")


def _result_rules(engine: Any, files: list[PolicyFile],
                  sets: set[tuple[str, str]] | None = None) -> dict[str, list[str]] | None:
    """Per package, the names of its rules whose values make results, from Regorus' syntax tree.
    A package with a result rule of a shape not read here (a dotted or bracketed head such as
    `deny.x := ...`) is left out, and None when the tree is not understood: those packages are
    evaluated whole, as before. `sets` gets the (package, rule) whose every definition is a
    `contains` (a set: never undefined)."""
    try:
        modules = json.loads(engine.get_ast_as_json())
    except (AttributeError, RuntimeError, ValueError):
        return None
    package_of = {f.label: f.package for f in files}
    rules: dict[str, set[str]] = {}
    unread: set[str] = set()
    kinds: dict[tuple[str, str], set[str]] = {}
    try:
        for module in modules:
            package = package_of.get(module["source"]["file"])
            if package is None:
                return None
            found = rules.setdefault(package, set())
            for rule in module["ast"]["rules"]:
                if "Spec" in rule:
                    kind, body = next(iter(rule["Spec"]["head"].items()))
                    refr = body["refr"]
                else:
                    kind, refr = "Default", rule["Default"]["refr"]
                if "Var" in refr:
                    name = refr["Var"]["value"]
                    if kind != "Func" and _RESULT_RULE.match(name):
                        found.add(name)
                        kinds.setdefault((package, name), set()).add(kind)
                elif _RESULT_RULE.match(_ref_root(refr)):
                    unread.add(package)
    except (KeyError, TypeError, StopIteration, AttributeError):
        return None
    if sets is not None:
        sets.update(rule for rule, of in kinds.items() if of == {"Set"})
    return {package: sorted(names) for package, names in rules.items() if package not in unread}


def _ref_root(refr: Any) -> str:
    """The first name of a dotted or bracketed rule head (`deny` of `deny.x` / `deny["x"]`)."""
    while isinstance(refr, dict) and "Var" not in refr:
        inner = next(iter(refr.values()), None)
        refr = inner.get("refr") if isinstance(inner, dict) else None
    return str(refr["Var"]["value"]) if isinstance(refr, dict) else "deny"  # unknown: as if a result rule


def _first_value(raw: dict) -> Any:
    try:
        return raw["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return None


CAPABILITIES = Path(__file__).resolve().parent / "opa" / "capabilities.json"


class ConftestEngine:
    """conftest through subprocess; inputs written as JSON files, evaluated in batches."""

    name = "conftest"
    batch = 500

    def __init__(self, policies: PolicySet, binary: str) -> None:
        self.binary = binary
        self.files = [(f.label, f.text) for f in policies.usable]
        self.packages = policies.packages
        self.dirs: list[str] = []

    def _write_policies(self, tmp: str) -> None:
        """The policies as read (from a revision, never through a link), in folders as labelled."""
        folders = set()
        for label, text in self.files:
            target = Path(tmp, "policies", *[part for part in label.split("/") if part not in ("", ".", "..")])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            folders.add(str(target.parent))
        self.dirs = sorted(folders)

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        return self.evaluate_texts([input_json(d) for d in inputs])

    def evaluate_texts(self, texts: list[str]) -> list[list[Result]]:
        out: list[list[Result]] = [[] for _ in texts]
        with tempfile.TemporaryDirectory(prefix="gitops-checks-conftest-") as tmp:
            self._write_policies(tmp)
            names = []
            for i, text in enumerate(texts):
                name = os.path.join(tmp, f"unit-{i:06d}.json")
                with open(name, "w", encoding="utf-8") as handle:
                    handle.write(text)
                names.append(name)
            index_of = {name: i for i, name in enumerate(names)}
            for start in range(0, len(names), self.batch):
                chunk = names[start:start + self.batch]
                for entry in self._run(chunk):
                    filename = entry.get("filename")
                    index = index_of.get(filename) if isinstance(filename, str) else None
                    if index is None:
                        raise EngineError("conftest answered about a file it was not given")
                    out[index].extend(self._entry_results(entry))
        return out

    def _run(self, files: list[str]) -> list[dict]:
        # OPA's builtins without the network and the environment (engines/opa/SOURCE.txt): a
        # repository policy calling http.send or opa.runtime does not compile -- policy/engine
        if not CAPABILITIES.is_file():  # never run conftest with every builtin allowed
            raise EngineError(f"the OPA capabilities file is missing from the installation: {CAPABILITIES}")
        args = [self.binary, "test", "--output", "json", "--no-fail", "--all-namespaces",
                "--capabilities", str(CAPABILITIES)]
        for directory in self.dirs:
            args += ["--policy", directory]
        try:
            # no environment but PATH and conftest's own CONFTEST_* settings: opa.runtime().env of a
            # repository policy sees no token or secret
            env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": tempfile.gettempdir(),
                   **{k: v for k, v in os.environ.items() if k.startswith("CONFTEST_")}}
            proc = subprocess.run([*args, *files], capture_output=True, text=True, timeout=600, check=False,  # noqa: S603
                                  env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"conftest could not run: {type(exc).__name__}") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:300]
            raise EngineError(f"conftest exited with {proc.returncode}: {last}")
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise EngineError("conftest printed something that is not its JSON output") from None
        if not isinstance(data, list):
            raise EngineError("conftest's JSON output is not a list of results")
        return data

    @staticmethod
    def _entry_results(entry: dict) -> list[Result]:
        results = []
        for key, kind in (("failures", "deny"), ("warnings", "warn")):
            for item in entry.get(key) or []:
                meta = item.get("metadata") or {}
                rule = str(meta.get("query", "data.main.deny")).rsplit(".", 1)[-1]
                path = meta.get("path")
                results.append(Result(kind, rule, str(item.get("msg", "")),
                                      tuple(path) if isinstance(path, list) else None))
        return results


def make_engine(choice: str, policies: PolicySet) -> RegorusEngine | SandboxedRegorus | ConftestEngine:
    """auto: conftest when it is on PATH, else the embedded engine -- in a sandboxed child process
    when any policy comes from a repository (the bundled starter pack is this package's own code)."""
    binary = conftest_binary()
    if choice == "conftest" or (choice == "auto" and binary):
        if not binary:
            raise FileNotFoundError("conftest is not on PATH (install it, or use --policy-engine regorus)")
        return ConftestEngine(policies, binary)
    return SandboxedRegorus(policies) if policies.sandboxed else RegorusEngine(policies)


def run_policy_tests(policies: PolicySet) -> list[tuple[str, str, bool, str]]:
    """(file label, test name, passed, note) for every `test_*` rule, OPA-style."""
    engine = _engine(policies.usable)
    outcomes = []
    for pf in policies.usable:
        if not pf.is_test or not pf.package:
            continue
        for name in re.findall(r"^(test_\w+)\s*(?:if\b|\{|:=|=)", pf.text, re.MULTILINE):
            try:
                raw = engine.eval_rule_as_json(f"data.{pf.package}.{name}")
                passed = json.loads(raw) is True
                note = "" if passed else "evaluated to false or undefined"
            except RuntimeError as exc:
                passed, note = False, _clean_error(str(exc))[0]
            outcomes.append((pf.label, name, passed, note))
    return outcomes


def bundled_policies() -> Path | None:
    """The starter pack, next to the package in a source or editable install."""
    candidate = Path(__file__).resolve().parents[2] / "policies"
    return candidate if candidate.is_dir() else None
