"""Which of a project's modules a module imports: the import graph a test's imports follow.

A test depends on the class and module bodies of every module it imports (they ran when
it was imported), and a module's body on those of the modules it imports in turn. The
graph comes from each file's import statements (`workflow_pieces.import_statements`:
every `import` and `from ... import` anywhere in the file, inside functions too, and
`importlib.import_module` or `__import__` of a literal name), resolved against the
modules the learning run loaded (name -> file). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Statement = tuple[str | None, int, Sequence[str]]  # (module, level, names)


def imported_names(statements: Iterable[Statement], module: str, is_package: bool) -> set[str]:
    """Dotted names the statements of module `module` may import: for `import a.b.c`
    the names a, a.b and a.b.c; for `from .x import y` both `pkg.x` and `pkg.x.y` (y
    may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for name, level, names in statements:
        base = _absolute(name, level, package)
        if base is None:
            continue
        found |= _prefixes(base)
        found |= {f"{base}.{alias}" for alias in names if alias != "*"}
    return found


def _prefixes(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts)) if parts[i]}


def _absolute(module: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


def module_name(path: str, modules: Mapping[str, str]) -> tuple[str, bool] | None:
    """The dotted name a file was imported under, and whether it is a package's
    `__init__`; for a file that was not imported (run as `python -m pkg` or a script),
    the name its package directory gives it; None when neither is known."""
    by_file = {file: name for name, file in modules.items() if name != "__main__"}
    if path in by_file:
        return by_file[path], path.endswith("__init__.py")
    folder, _, file = path.rpartition("/")
    package = by_file.get(f"{folder}/__init__.py" if folder else "__init__.py")
    if package is None:
        return None
    return f"{package}.{file.removesuffix('.py')}", False


def import_edges(
    statements: Mapping[str, Iterable[Statement]], modules: Mapping[str, str]
) -> dict[str, frozenset[str]]:
    """File -> the project files it imports, for every file in `statements` (path ->
    its import statements); names outside `modules` (the standard library, installed
    packages) are left out. A file whose module name is unknown resolves only its
    absolute imports."""
    edges: dict[str, frozenset[str]] = {}
    for path, found in statements.items():
        named = module_name(path, modules) or ("", False)
        names = imported_names(found, *named)
        edges[path] = frozenset(modules[n] for n in names if n in modules and modules[n] != path)
    return edges


def closure(seeds: Iterable[str], edges: Mapping[str, frozenset[str]]) -> set[str]:
    """Every file reachable from `seeds` along `edges` (file -> files it imports)."""
    found: set[str] = set()
    waiting = list(seeds)
    while waiting:
        path = waiting.pop()
        if path in found:
            continue
        found.add(path)
        waiting.extend(edges.get(path, ()))
    return found
