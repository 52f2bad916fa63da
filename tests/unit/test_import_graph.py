"""No module imports itself back, however late: every import is read, deferred ones too.

import-linter's contracts (pyproject.toml) hold the layers between packages; a circle
inside one package slips past them, and so does an import inside a function or under
`TYPE_CHECKING`. This test parses every module with `ast`, keeps every import wherever
it sits, and fails on any cycle of the module graph, naming it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).parents[2]
PACKAGES = ("orchestrator", "lanes", "sla", "reports")
PLUGINS = REPO / "orchestrator" / "engine" / "pytest" / "plugins"
# What a plugin may import inside the stage's own pytest: the standard library, pytest,
# coverage (selection's measurement) and its sibling plugins, by their top-level names.
PLUGIN_IMPORTS = frozenset({"pytest", "_pytest", "coverage"})


def module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_under(base: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of `packages` under `base`, by dotted name."""
    return {
        module_name(path, base): path
        for package in packages
        for path in sorted((base / package).rglob("*.py"))
    }


def imported(name: str, path: Path) -> Iterator[str]:
    """The dotted names `path` imports anywhere: top level, in functions, in `if` blocks."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def module_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a `from p import m` names module p.m)."""
    return {
        name: {target for target in imported(name, path) if target in modules} - {name}
        for name, path in modules.items()
    }


def reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or through others (itself only via a cycle)."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module, sorted."""
    reach = {node: reachable(graph, node) for node in graph}
    components = {
        frozenset({node} | {other for other in reach[node] if node in reach[other]})
        for node in graph
        if node in reach[node]
    }
    return sorted(sorted(component) for component in components)


def test_the_product_has_no_import_cycle() -> None:
    modules = modules_under(REPO, PACKAGES)
    assert "orchestrator.engine.pool" in modules
    found = cycles(module_graph(modules))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_a_deferred_import_closes_a_cycle_the_test_names(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import c\n"
        "def thing():\n    return 1\n"
    )
    (package / "c.py").write_text("def late():\n    from . import a\n    return a\n")
    (package / "d.py").write_text("import pkg.a\n")
    found = cycles(module_graph(modules_under(tmp_path, ("pkg",))))
    assert found == [["pkg.a", "pkg.b", "pkg.c"]]


def test_the_pytest_plugins_import_only_the_standard_library_pytest_and_each_other() -> None:
    siblings = {path.stem for path in PLUGINS.rglob("*.py")}
    allowed = set(sys.stdlib_module_names) | PLUGIN_IMPORTS | siblings
    for path in sorted(PLUGINS.rglob("*.py")):
        tops = {target.split(".")[0] for target in imported("plugin", path) if target}
        assert tops <= allowed, f"{path.relative_to(REPO)} imports {sorted(tops - allowed)}"
