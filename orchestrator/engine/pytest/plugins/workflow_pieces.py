"""The pieces of a Python source file that test selection tracks, and their fingerprints.

A piece is what a test can depend on inside one file (DESIGN.md, "Test selection"):

- a function body (`def`/`async def`, at any depth; named by its dotted path,
  `Parser.parse`, `outer.inner`): a test depends on it when it ran a line of it;
- a class body (classes at module level, or inside other such classes): what runs when
  the class statement runs, its methods' bodies left out;
- the module body: everything else (imports, constants, decorators, default values,
  signatures, docstrings of every definition).

Class and module bodies run when the module is imported, so every test that imports the
module depends on them. A function body's fingerprint is its exact text with the line
numbers (comments count, and so does code moving: a test may see line numbers in a
traceback); a class or module body's is its syntax tree with the bodies of its functions
left out but their docstrings and whether they are generators kept (what importing the
module makes of them), so comments and blank lines between definitions do not count.

Used twice: inside a pytest stage (the `workflow_select` plugin maps the lines coverage
saw to function bodies, `function_lines`), and by workflow (the fingerprints, made by
workflow's own interpreter so they compare across runs). Standard library only; Python
3.8 or later.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from typing import Any

MODULE = "<module>"
FUNCTION = "function"
CLASS = "class"
MODULE_KIND = "module"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


class Piece:
    """One piece of a file: its name, kind ("function", "class", "module") and its lines."""

    __slots__ = ("kind", "lines", "name", "node")

    def __init__(self, name: str, kind: str, node: ast.AST | None) -> None:
        self.name = name
        self.kind = kind
        self.node = node
        self.lines: list[int] = []


def _body_range(node: ast.AST) -> tuple[int, int]:
    """(first line, last line) of a definition's body."""
    body = getattr(node, "body", [])
    first = body[0].lineno if body else node.lineno  # type: ignore[attr-defined]
    last = getattr(node, "end_lineno", None) or first
    return first, last


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(node: ast.AST) -> list[ast.AST]:
    """The statements directly inside a compound statement (definitions live only there:
    expressions hold lambdas, never a `def` or a `class`)."""
    found: list[ast.AST] = []
    for field in _BLOCKS:
        for child in getattr(node, field, None) or ():
            if isinstance(child, ast.stmt):
                found.append(child)
            elif isinstance(child, (ast.excepthandler, getattr(ast, "match_case", ()))):
                found += [s for s in getattr(child, "body", ()) if isinstance(s, ast.stmt)]
    return found


def _walk(
    node: ast.AST, prefix: str, in_function: bool, found: list[Piece], names: dict[str, int]
) -> None:
    """Collect the function and class pieces under `node`, depth first, in source order."""
    for child in _statements(node):
        if isinstance(child, _DEFS):
            name = _unique(prefix + child.name, names)
            found.append(Piece(name, FUNCTION, child))
            _walk(child, name + ".", True, found, names)
        elif isinstance(child, ast.ClassDef):
            name = _unique(prefix + child.name, names)
            if not in_function:  # a class inside a function runs with the function
                found.append(Piece(name, CLASS, child))
            _walk(child, name + ".", in_function, found, names)
        else:
            _walk(child, prefix, in_function, found, names)


def _unique(name: str, names: dict[str, int]) -> str:
    """`name`, or `name#2`, `name#3`... for later definitions of the same name (a
    property's setter, a function defined in both branches of an `if`)."""
    seen = names.get(name, 0) + 1
    names[name] = seen
    return name if seen == 1 else f"{name}#{seen}"


def parse_pieces(source: str) -> tuple[ast.Module, list[Piece]]:
    """The file's syntax tree and pieces (module first), each with the lines it owns.

    A function body owns the lines from its first statement to its end, except those of
    the bodies of functions inside it; a class body owns its lines except its functions'
    bodies and its nested classes'; the module owns the rest. Raises SyntaxError.
    """
    tree = ast.parse(source)
    module = Piece(MODULE, MODULE_KIND, tree)
    found: list[Piece] = []
    _walk(tree, "", False, found, {})
    total = len(source.splitlines())
    owner: list[Piece | None] = [None] * (total + 2)
    # Outer definitions first (they start earlier, or end later), inner ones overwrite.
    for piece in sorted(found, key=lambda p: (_span(p)[0], -_span(p)[1])):
        start, end = _span(piece)
        for line in range(max(start, 1), min(end, total) + 1):
            owner[line] = piece
    for line in range(1, total + 1):
        (owner[line] or module).lines.append(line)
    return tree, [module, *found]


def _span(piece: Piece) -> tuple[int, int]:
    node = piece.node
    if piece.kind == FUNCTION:
        return _body_range(node)  # type: ignore[arg-type]
    start = node.lineno  # type: ignore[union-attr]
    return start, getattr(node, "end_lineno", None) or start


def function_lines(source: str) -> dict[int, str]:
    """Line -> the function body that owns it, for the lines inside a function body (a
    line outside every function body runs when the module is imported)."""
    _, pieces = parse_pieces(source)
    return {line: p.name for p in pieces if p.kind == FUNCTION for line in p.lines}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _hollow(node: ast.AST, keep_classes: bool) -> ast.AST:
    """A copy of `node` with every function body reduced to its docstring and kind (a
    generator, a coroutine), and, unless `keep_classes`, every class body to its name."""
    copied = copy.deepcopy(node)
    for child in ast.walk(copied):
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements = getattr(child, field, None)
            if isinstance(statements, list):
                setattr(child, field, [_stub(s, keep_classes) for s in statements])
    return copied


def _stub(statement: ast.AST, keep_classes: bool) -> ast.AST:
    if isinstance(statement, _DEFS):
        marker = ast.Expr(ast.Constant(f"<body: {_kind_of(statement)}>"))
        docstring = statement.body[:1] if ast.get_docstring(statement, clean=False) else []
        statement.body = [*docstring, marker]
    elif isinstance(statement, ast.ClassDef) and not keep_classes:
        statement.body = [ast.Expr(ast.Constant("<class body>"))]
    return statement


def _kind_of(node: ast.AST) -> str:
    """What calling the function makes: a generator, a coroutine, or a plain call."""
    yields = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(node))
    if isinstance(node, ast.AsyncFunctionDef):
        return "async generator" if yields else "coroutine"
    return "generator" if yields else "function"


def _own_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, without those of functions, lambdas or classes
    defined in it (their `yield` is theirs)."""
    found: list[ast.AST] = []
    waiting = list(getattr(node, "body", []))
    while waiting:
        current = waiting.pop()
        found.append(current)
        if isinstance(current, (*_DEFS, ast.Lambda, ast.ClassDef)):
            continue
        waiting.extend(ast.iter_child_nodes(current))
    return found


def fingerprints(source: str) -> dict[str, tuple[str, str]]:
    """Piece name -> (kind, fingerprint) for every piece of `source`. Raises SyntaxError."""
    tree, pieces = parse_pieces(source)
    lines = source.splitlines()
    result: dict[str, tuple[str, str]] = {}
    for piece in pieces:
        if piece.kind == FUNCTION:
            text = "\n".join(f"{n}:{lines[n - 1]}" for n in piece.lines if n <= len(lines))
        elif piece.kind == CLASS:
            text = ast.dump(_hollow(piece.node, keep_classes=False))  # type: ignore[arg-type]
        else:
            text = ast.dump(_hollow(tree, keep_classes=False))
        result[piece.name] = (piece.kind, _digest(text))
    return result


def import_statements(tree: ast.AST) -> list[tuple[str | None, int, list[str]]]:
    """Every import in a tree, anywhere (inside functions too), as (module, level,
    names): `import a.b` is ("a.b", 0, []), `from ..x import y` ("x", 2, ["y"]),
    `importlib.import_module("a.b")` or `__import__("a.b")` with a literal ("a.b", 0, [])."""
    found: list[tuple[str | None, int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module, node.level or 0, [a.name for a in node.names]))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in ("import_module", "__import__") and literal:
                found.append((first.value, 0, []))  # type: ignore[attr-defined]
    return found


def describe(source: str) -> dict[str, Any]:
    """What workflow keeps of a file's content: its pieces' kinds and fingerprints and
    its import statements. Raises SyntaxError."""
    return {
        "pieces": fingerprints(source),
        "imports": import_statements(ast.parse(source)),
    }
