"""Coverage's lines by context, made into function bodies: what the learning plugin writes.

Each measured file's lines map to the function bodies that own them
(`workflow_pieces.function_lines`); files and bodies are numbered once, and each
context keeps the numbers of the bodies it ran and the files it ran code in. A file's
layout is kept by content digest in the user's cache directory (outside the project:
never an input): parsing every imported file at the end of each learning run was most
of what a selected run of a few tests cost. Standard library only; Python 3.8+.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

# The stage finds workflow's plugins as top-level modules (their directory is first on
# its PYTHONPATH); the type checker sees them as orchestrator.engine.pytest.plugins.*.
from workflow_pieces import function_lines  # type: ignore[import-not-found]
from workflow_select_watch import Seen, under  # type: ignore[import-not-found]

LAYOUTS = 1  # the version of `function_lines` the cached layouts were made by


def _layout_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "workflow", f"select-layouts-{LAYOUTS}")


def layout_of(path: str) -> dict[int, str]:
    """Line -> function body of a source file; {} when it cannot be read or parsed.

    Parsing is most of what learning costs at the end of a run in a large project, so
    layouts are kept by content digest in the user's cache directory (outside the
    project: never an input), as workflow keeps its compiled report template; deleting
    them is always safe, and a cache that cannot be written is only slower."""
    try:
        with open(path, "rb") as stream:
            content = stream.read()
    except OSError:
        return {}
    cached = os.path.join(_layout_cache(), hashlib.sha256(content).hexdigest() + ".json")
    try:
        with open(cached, encoding="utf-8") as stream:
            return {int(line): name for line, name in json.load(stream).items()}
    except (OSError, ValueError):
        pass
    try:
        layout: dict[int, str] = function_lines(content.decode("utf-8", "surrogateescape"))
    except (SyntaxError, ValueError):
        return {}
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        partial = f"{cached}.{os.getpid()}.tmp"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump(layout, out)
        os.replace(partial, cached)
    return layout


class Table:
    """Files and function bodies numbered once; each context's bodies and files."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: list[str] = []
        self.pieces: list[tuple[int, str]] = []
        self._file_index: dict[str, int] = {}
        self._piece_index: dict[tuple[int, str], int] = {}
        self._layouts: dict[str, dict[int, str]] = {}
        self.contexts: dict[str, tuple[set[int], set[int]]] = {}

    def _file(self, path: str) -> int | None:
        real = os.path.realpath(path)
        if not under(real, self.root):
            return None
        relative = os.path.relpath(real, self.root)
        if relative not in self._file_index:
            self._file_index[relative] = len(self.files)
            self.files.append(relative)
            self._layouts[relative] = layout_of(real)
        return self._file_index[relative]

    def _add(self, context: str, path: str, lines: Any) -> None:
        index = self._file(path)
        if index is None:
            return
        bodies, files = self.contexts.setdefault(context, (set(), set()))
        files.add(index)
        layout = self._layouts[self.files[index]]
        for line in lines:
            name = layout.get(line)
            if name is not None:
                key = (index, name)
                if key not in self._piece_index:
                    self._piece_index[key] = len(self.pieces)
                    self.pieces.append(key)
                bodies.add(self._piece_index[key])

    def add_data(self, data: Any) -> None:
        """The main process's measurement: each file's lines by context."""
        for path in data.measured_files():
            for line, contexts in data.contexts_by_lineno(path).items():
                for context in contexts:
                    self._add(context, path, (line,))

    def add_child(
        self,
        coverage: Any,
        data_file: Path,
        records: dict[str, Seen],
        read_by: dict[str, set[tuple[str, str]]],
    ) -> None:
        """A started process's measurement (its one context) and its reads."""
        data = coverage.CoverageData(basename=str(data_file))
        try:
            data.read()
        except Exception:  # a process killed while saving: what it ran is unknown
            return
        for context in data.measured_contexts():
            data.set_query_context(context)
            for path in data.measured_files():
                self._add(context, path, data.lines(path) or ())
        sidecar = data_file.with_suffix(".json")
        try:
            seen = json.loads(sidecar.read_text("utf-8"))
        except (OSError, ValueError):
            return
        record = records.setdefault(str(seen.get("context", "")), Seen())
        record.reads.update(seen.get("reads", ()))
        record.dirs.update(seen.get("dirs", ()))
        record.opaque = record.opaque or seen.get("opaque")
        for path, pieces in dict(seen.get("read_by", {})).items():
            read_by.setdefault(path, set()).update((str(f), str(n)) for f, n in pieces)

    def context(self, name: str, record: Seen) -> dict[str, Any]:
        """One context as written: its bodies, files it ran, reads, listings, imports."""
        bodies, files = self.contexts.get(name, (set(), set()))
        return {
            "p": sorted(bodies),
            "t": sorted(files),
            "r": sorted(record.reads),
            "d": sorted(record.dirs),
            "i": sorted(record.imports),
            "x": record.opaque,
        }
