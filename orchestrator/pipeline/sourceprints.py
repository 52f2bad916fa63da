"""The fingerprints of a project's pieces as they are now: parsed once per file content.

A file's content is named the way git names it (its "mode blob" state, from the work
tree's snapshot: a clean tracked file costs nothing to name), and its pieces'
fingerprints (`engine/pytest/plugins/workflow_pieces.py`) are kept in the history under that
name and workflow's interpreter, so a run parses only the files whose content it has not
seen. A data file's fingerprint is its state; a directory's is a digest of its listing.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from orchestrator.cache.filestate import file_state
from orchestrator.cache.snapshot import Snapshot
from orchestrator.engine.pytest.plugins.workflow_pieces import describe
from orchestrator.model.selection import DIR_PIECE, FILE_PIECE

# A file that is missing or cannot be parsed has no pieces (every piece of it changed)
# and no imports.
_GONE: dict[str, object] = {"pieces": {}, "imports": []}


class SourcePrints:
    """The current fingerprint of any piece under `snapshot.top`; `remembered` holds what
    was already parsed (key -> JSON), `parsed` what this reading added."""

    def __init__(self, snapshot: Snapshot, remembered: dict[str, str] | None = None) -> None:
        self.snapshot = snapshot
        self.top = snapshot.top
        self.remembered = remembered or {}
        self.parsed: dict[str, str] = {}
        self._described: dict[str, dict[str, object]] = {}
        self._states: dict[str, str | None] = {}
        self._known = set(snapshot.tracked) | snapshot.untracked

    def state(self, path: str) -> str | None:
        """ "mode blob" of the file at `path` (relative to the top), None when none."""
        if path not in self._states:
            self._states[path] = (
                self.snapshot.state(path) if path in self._known else file_state(self.top / path)
            )
        return self._states[path]

    def key(self, path: str) -> str | None:
        """The name its pieces are remembered under: interpreter and content."""
        state = self.state(path)
        return None if state is None else f"{sys.implementation.cache_tag}:{state}"

    def current(self, path: str, name: str) -> str | None:
        """The fingerprint of piece `name` of `path` now; None when it is gone."""
        if name == FILE_PIECE:
            return self.state(path)
        if name == DIR_PIECE:
            return listing(self.top / path)
        found = self.pieces(path).get(name)
        return None if found is None else found[1]

    def pieces(self, path: str) -> dict[str, tuple[str, str]]:
        """Piece name -> (kind, fingerprint) of a Python file ({} when missing or
        unparsable); kinds are "function", "class" and "module"."""
        found = self._describe(path)["pieces"]
        return {name: (kind, fp) for name, (kind, fp) in found.items()}  # type: ignore[attr-defined]

    def imports(self, path: str) -> list[tuple[str | None, int, list[str]]]:
        """The file's import statements, as (module, level, names)."""
        return [(m, int(level), list(names)) for m, level, names in self._describe(path)["imports"]]  # type: ignore[attr-defined]

    def _describe(self, path: str) -> dict[str, object]:
        if path in self._described:
            return self._described[path]
        key = self.key(path)
        found = _GONE
        if key is not None:
            text = self.remembered.get(key)
            if text is None:
                text = self._parse(path)
                if text is not None:
                    self.parsed[key] = text
            if text is not None:
                found = json.loads(text)
        self._described[path] = found
        return found

    def _parse(self, path: str) -> str | None:
        try:
            source = (self.top / path).read_text("utf-8", "surrogateescape")
            return json.dumps(describe(source), sort_keys=True)
        except (OSError, SyntaxError, ValueError):
            return None


def listing(directory: Path) -> str | None:
    """A digest of a directory's entries (bytecode caches left out); None when it is
    not a directory."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.name != "__pycache__")
    except OSError:
        return None
    text = "\0".join(names).encode("utf-8", "surrogateescape")
    return hashlib.sha256(text).hexdigest()[:20]
