"""Seeded source mutants for bench/bench_select.py: small edits a real change could be.

Each mutant flips one operator or constant of a project's source: comparisons (`<` and
`<=`, `==` and `!=`, `in` and `not in`, `is` and `is not`), arithmetic (`+` and `-`, `*`
and `//`), constants (an integer plus one, `True` and `False`) and booleans (`and` and
`or`). Where the edit lies decides its kind: a function body, a default argument, a class
body (outside its methods) or the module level; selection must run every test that the
full suite shows failing, whatever the kind. Mutants are made from the syntax tree and
applied as text at the node's exact columns (one line each), in a seeded random order.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("function body", "default argument", "class body", "module level")
_SWAPS = {
    "<=": "<",
    "<": "<=",
    ">=": ">",
    ">": ">=",
    "==": "!=",
    "!=": "==",
    "not in": "in",
    "in": "not in",
    "is not": "is",
    "is": "is not",
    "+": "-",
    "-": "+",
    "*": "//",
    "//": "*",
    "and": "or",
    "or": "and",
}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)


@dataclass(frozen=True)
class Mutant:
    """One edit: in `path` (relative), line `line`, columns [start, end) become `new`."""

    path: str
    line: int
    start: int
    end: int
    old: str
    new: str
    kind: str  # one of KINDS
    what: str  # "comparison", "arithmetic", "constant", "boolean"

    @property
    def label(self) -> str:
        """ "more_itertools/more.py:123 `<` -> `<=` (function body)"."""
        return f"{self.path}:{self.line} `{self.old.strip()}` -> `{self.new.strip()}` ({self.kind})"

    @property
    def key(self) -> str:
        """The label with the column: two mutants can make the same edit on one line."""
        return f"{self.path}:{self.line}:{self.start} `{self.old.strip()}` -> `{self.new.strip()}`"

    def apply(self, root: Path) -> str:
        """Edit the file; its text before, to put back with `revert`."""
        path = root / self.path
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        row = lines[self.line - 1]
        if row[self.start : self.end] != self.old:
            raise ValueError(f"{self.label}: the source is not what the mutant was made from")
        lines[self.line - 1] = row[: self.start] + self.new + row[self.end :]
        path.write_text("".join(lines), encoding="utf-8")
        return text

    def revert(self, root: Path, text: str) -> None:
        """Put the file back as it was."""
        (root / self.path).write_text(text, encoding="utf-8")


def _kinds(tree: ast.Module) -> dict[int, str]:
    """id(node) -> the kind of place it is in, for every node of the tree."""
    found: dict[int, str] = {}

    def mark(node: ast.AST, kind: str) -> None:
        for child in ast.walk(node):
            found.setdefault(id(child), kind)

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                for default in [*child.args.defaults, *child.args.kw_defaults]:
                    if default is not None:
                        mark(default, "default argument")
                for statement in child.body:
                    mark(statement, "function body")
                found.setdefault(id(child), kind)
            elif isinstance(child, ast.ClassDef):
                found.setdefault(id(child), kind)
                visit(child, "class body")
            else:
                found.setdefault(id(child), kind)
                visit(child, kind)

    visit(tree, "module level")
    return found


def _between(lines: list[str], a: ast.AST, b: ast.AST) -> tuple[int, int, int] | None:
    """(line, start, end) of the text between two nodes, when they share one line."""
    line = getattr(a, "end_lineno", None)
    if line is None or line != getattr(b, "lineno", None):
        return None
    return line, int(a.end_col_offset or 0), int(b.col_offset)  # type: ignore[attr-defined]


_TOKEN = re.compile(r"[\s()]*(not in|is not|in|is|and|or|<=|>=|==|!=|<|>|\+|-|\*|//)[\s()]*")


def _operator(
    lines: list[str], where: tuple[int, int, int] | None
) -> tuple[int, int, int, str, str] | None:
    """The operator between two operands, swapped, as (line, start, end, old, new)."""
    if where is None:
        return None
    line, start, end = where
    found = _TOKEN.fullmatch(lines[line - 1][start:end])
    if found is None:
        return None
    token = found.group(1)
    return line, start + found.start(1), start + found.end(1), token, _SWAPS[token]


def mutants_of(root: Path, relative: str) -> list[Mutant]:
    """Every mutant of one source file, in source order."""
    text = (root / relative).read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    kinds = _kinds(tree)
    found: list[Mutant] = []
    for node in ast.walk(tree):
        kind = kinds.get(id(node), "module level")
        edit: tuple[int, int, int, str, str] | None = None
        what = ""
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            edit, what = (
                _operator(lines, _between(lines, node.left, node.comparators[0])),
                "comparison",
            )
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            edit, what = _operator(lines, _between(lines, node.left, node.right)), "arithmetic"
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            edit, what = (
                _operator(lines, _between(lines, node.values[0], node.values[1])),
                "boolean",
            )
        elif isinstance(node, ast.Constant) and getattr(node, "end_lineno", 0) == node.lineno:
            edit, what = _constant(lines, node), "constant"
        if edit is not None:
            line, start, end, old, new = edit
            found.append(Mutant(relative, line, start, end, old, new, kind, what))
    return found


def _constant(lines: list[str], node: ast.Constant) -> tuple[int, int, int, str, str] | None:
    line, start, end = node.lineno, node.col_offset, int(node.end_col_offset or 0)
    old = lines[line - 1][start:end]
    if node.value is True and old == "True":
        return line, start, end, old, "False"
    if node.value is False and old == "False":
        return line, start, end, old, "True"
    if type(node.value) is int and old.isdigit():
        return line, start, end, old, str(node.value + 1)
    return None


def choose(all_mutants: list[Mutant], count: int, seed: int) -> list[Mutant]:
    """`count` mutants in a seeded order: every mutant of the kinds that have few (class
    bodies, module level, default arguments: at most a fifth of `count` each), the rest
    from function bodies."""
    rng = random.Random(seed)  # nosec B311
    by_kind = {kind: [m for m in all_mutants if m.kind == kind] for kind in KINDS}
    chosen: list[Mutant] = []
    for kind in KINDS[1:]:
        pool = by_kind[kind]
        rng.shuffle(pool)
        chosen += pool[: max(1, count // 5)]
    body = by_kind["function body"]
    rng.shuffle(body)
    chosen += body[: max(0, count - len(chosen))]
    rng.shuffle(chosen)
    return chosen
