"""What each test depends on, from what its coverage contexts ran and read.

A test's own pieces: the function bodies that ran in its context and in the contexts of
the fixtures wider than a function that it uses, and the files and directories read
there. Its imports' pieces: the class and module bodies of every module it imports,
directly or through others (`model/imports.py`: from its test file, the files it ran
code in and the modules it imported by name), with the function bodies that ran while
those modules were imported. A file read while one of its pieces was on the stack counts
for every test that ran that piece or imports that module: a cache may hand them its
content without reading it again. A piece whose fingerprint cannot be had now is kept
as "missing", so the test runs again next time rather than never.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.pytest.plugins.workflow_pieces import MODULE
from orchestrator.history.depmap import LearnedTest
from orchestrator.model.imports import closure, import_edges
from orchestrator.model.selection import DIR_PIECE, FILE_PIECE, PieceVersion
from orchestrator.pipeline.sourceprints import SourcePrints, listing

MISSING = "missing"
Piece = tuple[str, str]  # (path, name)


@dataclass
class Context:
    """One coverage context, by path: function bodies run, files touched, reads."""

    ran: set[Piece] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    opaque: str | None = None


@dataclass
class Learned:
    """Every process's learning of one stage, joined."""

    rootdir: str = "."
    contexts: dict[str, Context] = field(default_factory=dict)
    fixtures: dict[str, set[str]] = field(default_factory=dict)
    read_by: dict[str, set[Piece]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)

    @classmethod
    def joined(cls, sections: Sequence[Mapping[str, Any]]) -> Learned:
        """The union of each process's learning (`workflow_select_learn` writes one)."""
        joined = cls()
        for section in sections:
            joined.rootdir = str(section.get("rootdir", "."))
            files = list(section.get("files", ()))
            pieces = [(files[f], str(name)) for f, name in section.get("pieces", ())]
            for name, data in dict(section.get("contexts", {})).items():
                context = joined.contexts.setdefault(str(name), Context())
                context.ran.update(pieces[i] for i in data.get("p", ()))
                context.touched.update(files[i] for i in data.get("t", ()))
                context.reads.update(data.get("r", ()))
                context.dirs.update(data.get("d", ()))
                context.imports.update(data.get("i", ()))
                context.opaque = context.opaque or data.get("x")
            for test, wide in dict(section.get("fixtures", {})).items():
                joined.fixtures.setdefault(str(test), set()).update(wide)
            for path, found in dict(section.get("read_by", {})).items():
                joined.read_by.setdefault(str(path), set()).update((f, n) for f, n in found)
            joined.modules.update(dict(section.get("modules", {})))
        return joined


def learned_tests(
    learned: Learned, outcomes: Mapping[str, str], prints: SourcePrints
) -> dict[str, LearnedTest]:
    """Every test that ran and was measured: its outcome and piece versions."""
    python = {p for c in learned.contexts.values() for p in c.touched if p.endswith(".py")}
    python |= set(learned.modules.values())
    edges = import_edges({p: prints.imports(p) for p in python}, learned.modules)
    at_import = learned.contexts.get("", Context())
    versions = _Versions(prints, at_import)
    readers = _readers(learned.read_by)
    listed = {d for c in learned.contexts.values() for d in c.dirs}
    found: dict[str, LearnedTest] = {}
    for test, outcome in outcomes.items():
        # A test that ran none of the project's lines (skipped before its body) has no
        # context of its own: it still depends on what its file imports.
        names = [test, *sorted(learned.fixtures.get(test, ()))]
        contexts = [learned.contexts.get(name, Context()) for name in names]
        ran = set().union(*(c.ran for c in contexts))
        test_file = posixpath.normpath(posixpath.join(learned.rootdir, test.split("::")[0]))
        seeds = {test_file}.union(*(c.touched for c in contexts))
        seeds |= {learned.modules[n] for c in contexts for n in c.imports if n in learned.modules}
        imported = closure(seeds, edges)
        reads = set().union(*(c.reads for c in contexts))
        dirs = set().union(*(c.dirs for c in contexts))
        holders = ran | {(f, MODULE) for f in imported}
        holders |= {(f, n) for f in imported for n in versions.at_import.get(f, ())}
        for piece in holders & readers.keys():
            for path in readers[piece]:
                (dirs if path in listed else reads).add(path)
        opaque = next((c.opaque for c in [*contexts, at_import] if c.opaque), None)
        found[test] = LearnedTest(
            outcome=outcome,
            code=frozenset(
                {versions.piece(p) for p in ran}
                | {versions.file(p) for p in reads}
                | {versions.directory(p) for p in dirs}
            ),
            imports=versions.imported(imported),
            opaque=opaque,
        )
    return found


def _readers(read_by: Mapping[str, set[Piece]]) -> dict[Piece, set[str]]:
    """Piece -> the paths read while it was on the stack."""
    found: dict[Piece, set[str]] = {}
    for path, pieces in read_by.items():
        for piece in pieces:
            found.setdefault(piece, set()).add(path)
    return found


class _Versions:
    """Piece versions with today's fingerprints, made once each."""

    def __init__(self, prints: SourcePrints, at_import: Context) -> None:
        self.prints = prints
        self.at_import: dict[str, set[str]] = {}
        for path, name in at_import.ran:
            self.at_import.setdefault(path, set()).add(name)
        self._imported: dict[str, frozenset[PieceVersion]] = {}

    def piece(self, piece: Piece) -> PieceVersion:
        path, name = piece
        found = self.prints.current(path, name)
        return PieceVersion(path, name, MISSING if found is None else found)

    def file(self, path: str) -> PieceVersion:
        return PieceVersion(path, FILE_PIECE, self.prints.state(path) or MISSING)

    def directory(self, path: str) -> PieceVersion:
        return PieceVersion(path, DIR_PIECE, listing(self.prints.top / path) or MISSING)

    def module(self, path: str) -> frozenset[PieceVersion]:
        """The pieces that ran when `path` was imported: its class and module bodies and
        the function bodies run meanwhile (a file that is not Python: its content)."""
        if path not in self._imported:
            pieces = self.prints.pieces(path) if path.endswith(".py") else {}
            found = {
                PieceVersion(path, name, fp)
                for name, (kind, fp) in pieces.items()
                if kind != "function"
            }
            found |= {self.piece((path, name)) for name in self.at_import.get(path, ())}
            self._imported[path] = frozenset(found or {self.file(path)})
        return self._imported[path]

    def imported(self, paths: set[str]) -> frozenset[PieceVersion]:
        return frozenset().union(*(self.module(p) for p in paths)) if paths else frozenset()
