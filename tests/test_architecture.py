"""The package's import graph: no cycles, and imports point down the flow only.

Every import counts, wherever it is written: at the top of a module, inside a function
(a hidden cycle) or under `if TYPE_CHECKING:` (a type is a dependency too). The graph is
read with `ast`, so nothing is imported to draw it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "checks"

# Lowest first. A module may import from its own step or from the steps before it.
LAYERS = ("core", "repo", "model", "scope", "engines", "runner", "rules", "diffing", "reports", "publish", "service",
          "cli")
# Modules outside the step folders, and where they sit.
PLACED = {
    "checks": -1,  # the package itself: its version only
    "checks.api": LAYERS.index("runner"),  # the plugin API: re-exports the runner's check interface
    "checks.__main__": len(LAYERS),
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (a name imported from a package that is a
    module counts as that module, `from checks.repo import source`)."""
    top = root.name
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != top:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    targets.add(sub if sub in paths else target)
        graph[name] = {t for t in targets if t != name}
    return graph


def layer(module: str) -> int | None:
    if module in PLACED:
        return PLACED[module]
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in graph), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def upward(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = layer(module), layer(target)
            if here is None or there is None:
                bad.append(f"{module} -> {target}: not in a step of the flow (add it to LAYERS or PLACED)")
            elif there > here:
                bad.append(f"{module} ({LAYERS[here] if here < len(LAYERS) else 'top'}) -> {target} "
                           f"({LAYERS[there]}): imports up the flow")
    return bad


def test_no_import_cycles() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_imports_point_down_the_flow() -> None:
    assert upward(import_graph(PACKAGE)) == []


def test_every_step_of_the_flow_is_a_folder() -> None:
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(LAYERS)


# -- the detectors themselves catch what they are for ------------------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "checks"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "repo/__init__.py": "",
        "repo/a.py": "from checks.repo.b import thing\n",
        "repo/b.py": "def thing():\n    from checks.repo import a\n    return a\n",
        "repo/c.py": "from . import a\n",
    })
    assert cycles(import_graph(pkg)) == [["checks.repo.a", "checks.repo.b"]]


def test_a_type_checking_import_up_the_flow_is_found(tmp_path: Path) -> None:
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "core/__init__.py": "",
        "runner/__init__.py": "",
        "runner/run.py": "X = 1\n",
        "core/low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from checks.runner.run import X\n",
    })
    assert upward(import_graph(pkg)) == ["checks.core.low (core) -> checks.runner.run (runner): imports up the flow"]


@pytest.mark.parametrize("module", ["checks.rules.x", "checks.cli.commands.run"])
def test_a_module_may_import_from_below(module: str) -> None:
    assert upward({module: {"checks.core.findings", "checks.runner.registry"}}) == []


def test_the_readme_layout_names_every_step_and_module() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 5)]
    assert [step for step in LAYERS if f"  {step}/" not in layout] == []
    # reports and commands are named by their format or subcommand; every other module by its file name
    unnamed = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py"))
               if p.name not in ("__init__.py", "__main__.py") and p.relative_to(PACKAGE).parts[0] != "reports"
               and p.parent.name != "commands" and p.name not in layout]
    assert unnamed == []


def test_diffing_is_given_its_inputs_not_the_runner_context() -> None:
    """A diff reads revisions (diffing/sides.py), not the checks' Context: the run service hands it
    the run's revision, and the runner is handed the scope diffing works out. sides.py alone builds
    a checks' view, for the deployed units the diff reuses from rules/deployed_units.py."""
    graph = import_graph(PACKAGE)
    assert sorted(f"{m} -> {t}" for m, targets in graph.items() if m.startswith("checks.diffing.")
                  and m != "checks.diffing.sides" for t in targets if t.startswith("checks.runner")) == []
