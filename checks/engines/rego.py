"""Rego policies: loading with syntax errors located, and two engines that give the same answers.

- `regorus`: the embedded Regorus interpreter (PyPI `gordon-to-regorus`), so policies run
  on every laptop and in CI without installing anything else.
- `conftest`: the conftest CLI through subprocess (no shell), many inputs per call,
  `--output json --no-fail`; conftest's own errors are an `EngineError`, never a pass.

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


def load_policies(dirs: list[tuple[str, Path]]) -> PolicySet:
    """`dirs` are (label prefix, directory); each .rego is checked for syntax on its own."""
    import regorus

    result = PolicySet()
    for prefix, directory in dirs:
        for path in sorted(directory.rglob("*.rego")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                pf = PolicyFile(f"{prefix}/{path.relative_to(directory).as_posix()}", path, "", None)
                result.files.append(pf)
                result.problems.append(SyntaxProblem(pf, f"cannot read policy: {type(exc).__name__}", None, None))
                continue
            m = _PACKAGE.search(text)
            pf = PolicyFile(f"{prefix}/{path.relative_to(directory).as_posix()}", path, text, m.group(1) if m else None)
            result.files.append(pf)
            try:
                regorus.Engine().add_policy(pf.label, text)
            except RuntimeError as exc:
                message, line, column = _clean_error(str(exc))
                result.problems.append(SyntaxProblem(pf, f"Rego syntax error: {message}", line, column))
    # A file may parse alone but clash with others (a rule redefined with another kind).
    if result.usable:
        try:
            _engine(result.usable)
        except RuntimeError as exc:
            message, line, column = _clean_error(str(exc))
            label = _LOCATION.search(str(exc))
            culprit = next((f for f in result.usable if label and f.label == label.group("file")), result.usable[0])
            result.problems.append(SyntaxProblem(culprit, f"Rego error: {message}", line, column))
    return result


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
        self._engine = _engine([f for f in policies.usable if not f.is_test])
        self._batched = self._add_batch_module()

    def _add_batch_module(self) -> bool:
        """A module evaluating every package for each of many inputs (`with input as`)."""
        if not self.packages:
            return False
        fields = ", ".join(f'"{i}": data.{package}' for i, package in enumerate(self.packages))
        text = (f"package {_BATCH_PACKAGE}\nimport rego.v1\n"
                f"results := [r | some d in input.docs; r := {{{fields}}} with input as d]\n")
        try:
            self._engine.add_policy(f"{_BATCH_PACKAGE}.rego", text)
        except RuntimeError:
            return False
        return True

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        out: list[list[Result]] = []
        for start in range(0, len(inputs), self.batch):
            chunk = inputs[start:start + self.batch]
            results = self._evaluate_batch(chunk) if self._batched else None
            # anything unexpected (an error, an undefined package): one by one, which names the culprit
            out.extend(results if results is not None else [self.evaluate_one(d) for d in chunk])
        return out

    def _evaluate_batch(self, documents: list[dict[str, Any]]) -> list[list[Result]] | None:
        try:
            self._engine.set_input_json(json.dumps({"docs": documents}, default=str))
            value = _first_value(json.loads(self._engine.eval_query_as_json(f"data.{_BATCH_PACKAGE}.results")))
        except RuntimeError:
            return None
        if not isinstance(value, list) or len(value) != len(documents):
            return None
        out = []
        for item in value:
            results: list[Result] = []
            for i in range(len(self.packages)):
                package_value = item.get(str(i)) if isinstance(item, dict) else None
                if isinstance(package_value, dict):
                    results.extend(_results_from_package(package_value))
            out.append(results)
        return out

    def evaluate_one(self, document: dict[str, Any]) -> list[Result]:
        self._engine.set_input_json(json.dumps(document, default=str))
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


_BATCH_PACKAGE = "gitops_checks_internal_batch"


def _first_value(raw: dict) -> Any:
    try:
        return raw["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return None


class ConftestEngine:
    """conftest through subprocess; inputs written as JSON files, evaluated in batches."""

    name = "conftest"
    batch = 500

    def __init__(self, policies: PolicySet, binary: str) -> None:
        self.binary = binary
        self.dirs = sorted({str(f.path.parent) for f in policies.usable})
        self.packages = policies.packages

    def evaluate(self, inputs: list[dict[str, Any]]) -> list[list[Result]]:
        out: list[list[Result]] = [[] for _ in inputs]
        with tempfile.TemporaryDirectory(prefix="gitops-checks-conftest-") as tmp:
            names = []
            for i, document in enumerate(inputs):
                name = os.path.join(tmp, f"unit-{i:06d}.json")
                with open(name, "w", encoding="utf-8") as handle:
                    json.dump(document, handle, default=str)
                names.append(name)
            for start in range(0, len(names), self.batch):
                chunk = names[start:start + self.batch]
                for entry in self._run(chunk):
                    index = names.index(entry.get("filename", "")) if entry.get("filename") in names else None
                    if index is None:
                        raise EngineError("conftest answered about a file it was not given")
                    out[index].extend(self._entry_results(entry))
        return out

    def _run(self, files: list[str]) -> list[dict]:
        args = [self.binary, "test", "--output", "json", "--no-fail", "--all-namespaces"]
        for directory in self.dirs:
            args += ["--policy", directory]
        try:
            proc = subprocess.run([*args, *files], capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
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


def make_engine(choice: str, policies: PolicySet) -> RegorusEngine | ConftestEngine:
    """auto: conftest when it is on PATH, else the embedded engine."""
    binary = conftest_binary()
    if choice == "conftest" or (choice == "auto" and binary):
        if not binary:
            raise FileNotFoundError("conftest is not on PATH (install it, or use --policy-engine regorus)")
        return ConftestEngine(policies, binary)
    return RegorusEngine(policies)


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
