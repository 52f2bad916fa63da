"""Stages do not edit the sources (DESIGN): what each stage changed in the work tree.

Before the first stage, `git status` is read once (the result cache's own reading when it
took one). When a stage ends, in its worker's thread and before anything depends on its
outcome, `git status` is read again: a file git tracks or would track that changed,
appeared or disappeared since the last reading is the ending stage's doing. A stage that
declares `writes = true` has them listed in its record; any other stage fails, naming
them. Such a stage runs alone (`serial`), so what it wrote is its own; when other stages
ran beside the one that ended, the failure says so.

git says which tracked files differ from the index, by content. A file that was already
listed (an uncommitted edit, an untracked file) counts as changed when its inode change
time moved since it was last seen: workflow's own reports, history and cache, the
caches tools keep for themselves (`__pycache__`, `.pytest_cache`, `.mypy_cache`,
`.ruff_cache`, `.hypothesis`, `.coverage` data, `.tox`, `.nox`, `*.egg-info`) and
virtual environments are not sources and never count.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.cache.snapshot import Snapshot, status_codes
from orchestrator.gitio import GitError, run_git
from orchestrator.model.ownpaths import environments, inside, own_output_of, top_environments
from orchestrator.model.status import StageStatus

if TYPE_CHECKING:
    from orchestrator.model.records import FileEdit, StageRecord

# Directories tools keep for themselves inside a project; never sources.
TOOL_CACHES = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox"}
)
SHOWN = 10  # files named in a stage's error before "and N more"


class Edit(NamedTuple):
    """One changed path and how: "modified", "added" or "deleted"."""

    path: str
    change: str


def edits(
    before: Mapping[str, str],
    now: Mapping[str, str],
    present: Callable[[str], bool],
    touched: Callable[[str], bool],
) -> list[Edit]:
    """What changed between two `git status` readings (path -> porcelain code).

    `present(path)`: the path exists now; `touched(path)`: its inode changed since the
    earlier reading (asked only of paths listed both times). A path listed only now is
    new work: added when untracked, else modified (or deleted when gone); a path listed
    only before is back to git's content (modified) or, untracked, removed.
    """
    found: list[Edit] = []
    for path in sorted({*before, *now}):
        was, code = before.get(path), now.get(path)
        exists = present(path)
        if was is None:
            found.append(
                Edit(path, ("added" if code == "??" else "modified") if exists else "deleted")
            )
        elif code is None:
            found.append(Edit(path, "modified" if exists else "deleted"))
        elif _deleted(was) and exists:
            found.append(Edit(path, "added"))
        elif not _deleted(was) and not exists:
            found.append(Edit(path, "deleted"))
        elif exists and touched(path):
            found.append(Edit(path, "modified"))
    return found


def _deleted(code: str) -> bool:
    return "D" in code


def not_a_source(path: str, environments: Iterable[str] = ()) -> bool:
    """A tool's cache, bytecode, coverage data or a virtual environment's file."""
    parts = path.split("/")
    name = parts[-1]
    if any(part in TOOL_CACHES or part.endswith(".egg-info") for part in parts[:-1]):
        return True
    if name.endswith((".pyc", ".pyo")) or name == ".coverage" or name.startswith(".coverage."):
        return True
    return inside(path, environments)


class SourceGuard:
    """Reads the work tree before the stages and after each one; fails a stage that
    changed it unasked. Thread-safe: stages end on their workers' threads."""

    def __init__(self, root: Path, outputs: tuple[Path, ...], writers: frozenset[str]) -> None:
        self.root = root
        self.outputs = outputs  # workflow's own (absolute): never a source
        self.writers = writers  # stages with `writes = true`
        self.since_ns = time.time_ns()  # before the first reading: a later change is newer
        self.top: Path | None = None
        self.last: dict[str, str] = {}
        self.seen: dict[str, int] = {}  # path -> inode change time when last looked at
        self.running: set[str] = set()
        self.own: list[str] = []
        self.environments: tuple[str, ...] = ()
        self.lock = threading.Lock()
        # The first reading, kept as git gave it until the first stage ends: sorting out
        # thousands of untracked files (a virtualenv) need not delay the first stage.
        self._first: dict[str, str] | None = None

    def begin(self, snapshot: Snapshot | None = None) -> None:
        """Read the tree before any stage starts, or take the reading the result cache
        made of it (`snapshot`, taken after this guard was made). Without git or outside
        a work tree the guard stays off."""
        if snapshot is not None and self.root.resolve().is_relative_to(snapshot.top.resolve()):
            found: Path | None = snapshot.top
            read = {path: "??" for path in snapshot.untracked}
            for path in snapshot.dirty:
                read[path] = " M" if os.path.lexists(snapshot.top / path) else " D"
            codes: dict[str, str] | None = read
        else:
            try:
                found = _top(self.root)
                venvs = () if found is None else top_environments(found)
                codes = None if found is None else status_codes(found, *venvs)
            except GitError:
                return
        if found is None or codes is None:
            return
        self.top = found
        self._first = codes

    def _settle(self) -> None:
        """Sort out the first reading (under the lock, when the first stage ends)."""
        codes, self._first = self._first, None
        if codes is None or self.top is None:
            return
        self.own = [p for p in (_relative(out, self.top) for out in self.outputs) if p]
        found = environments(p for p, code in codes.items() if code == "??")
        self.environments = tuple(sorted({*found, *top_environments(self.top)}))
        self.last = self._sources(codes)

    def started(self, name: str) -> None:
        """A stage started (the pool's start event)."""
        with self.lock:
            self.running.add(name)

    def check(self, record: StageRecord) -> StageRecord:
        """The record of a stage that just ended, with what it changed: listed for a
        writer, a failure naming the files for any other stage."""
        with self.lock:
            self.running.discard(record.name)
            if self.top is None or record.executor == "cache":
                return record
            self._settle()
            found = self._read()
            beside = sorted(self.running)
        if not found:
            return record
        listed = tuple(_file_edit(edit) for edit in found)
        if record.name in self.writers:
            return replace(record, changed_files=listed)
        status, error = _failure(record, found, beside)
        return replace(record, changed_files=listed, status=status, error=error)

    def _read(self) -> list[Edit]:
        top = self.top
        if top is None:
            return []
        try:
            codes = status_codes(top, *self.environments)
        except GitError:
            return []
        if codes is None:
            return []
        now = self._sources(codes)
        stamps: dict[str, int | None] = {}

        def stamp(path: str) -> int | None:
            if path not in stamps:
                try:
                    stamps[path] = os.lstat(top / path).st_ctime_ns
                except OSError:
                    stamps[path] = None
            return stamps[path]

        def touched(path: str) -> bool:
            when = stamp(path)
            known = self.seen.get(path)
            return when is not None and (
                when != known if known is not None else when >= self.since_ns
            )

        found = edits(self.last, now, lambda path: stamp(path) is not None, touched)
        for path, when in stamps.items():
            if when is not None:
                self.seen[path] = when
        self.last = now
        return found

    def _sources(self, codes: Mapping[str, str]) -> dict[str, str]:
        venvs = tuple(f"{env}/" for env in self.environments)  # one C-level test a path
        return {
            path: code
            for path, code in codes.items()
            if not (venvs and path.startswith(venvs))
            and not not_a_source(path)
            and own_output_of(path, self.own) is None
        }


def _failure(record: StageRecord, found: list[Edit], beside: list[str]) -> tuple[StageStatus, str]:
    """The status and error of a stage that changed the sources unasked: failed (a stage
    that failed anyway keeps its own status), naming the files."""
    shown = ", ".join(f"{e.path} ({e.change})" for e in found[:SHOWN])
    if len(found) > SHOWN:
        shown += f" and {len(found) - SHOWN} more"
    error = (
        f"it changed files of the project: {shown}; a check must not edit the sources "
        "(set writes = true on a stage that should, or make the tool check only)"
    )
    if beside:
        error += f"; {', '.join(beside)} also ran meanwhile and may have made the change"
    if not record.status.ok:
        return record.status, f"{record.error}; {error}" if record.error else error
    return StageStatus.FAILED, error


def _file_edit(edit: Edit) -> FileEdit:
    # The record types load once a stage has ended (pipeline/run.py's helper thread has
    # loaded them by then): this module's one deferred import.
    from orchestrator.model.records import FileEdit  # noqa: PLC0415 - see the comment above

    return FileEdit(path=edit.path, change=edit.change)


def _top(directory: Path) -> Path | None:
    found = run_git(directory, "rev-parse", "--show-toplevel")
    text = found.stdout.strip()
    return Path(text) if found.returncode == 0 and text else None


def _relative(path: Path, top: Path) -> str | None:
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
