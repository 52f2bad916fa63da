"""The work tree's content as git sees it, read once and hashed only where needed.

A clean tracked file is named by its index entry (mode and blob id: git already hashed
it); a file that is dirty or untracked is hashed here the way git would hash it, so an
edit that is undone gives the same state as before. Modification times never count: a
`touch`, a fresh clone or a CI checkout changes nothing. Ignored files are never inputs.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lanes.git import GitError, repository_problem, run_git

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"  # a submodule's commit


@dataclass
class Snapshot:
    """One reading of a git work tree.

    `tracked` maps top-relative paths (with `/`) to "mode blob" from the index; `dirty`
    are tracked paths whose work-tree state may differ (git status lists them);
    `untracked` are files git would track (not ignored).
    """

    top: Path
    tracked: Mapping[str, str]
    dirty: frozenset[str]
    untracked: frozenset[str]
    # Untracked nested repositories ("sub/"): their content is not read here.
    opaque: frozenset[str] = frozenset()
    _hashed: dict[str, str | None] = field(default_factory=dict)

    def paths(self) -> Iterable[str]:
        """Every candidate input path: tracked or untracked, present or not."""
        yield from self.tracked
        yield from self.untracked
        yield from self.opaque

    def state(self, path: str) -> str | None:
        """The "mode blob" of the file at `path` now, or None when there is no file there.

        What cannot be read cheaply and exactly (a submodule with changes of its own, an
        untracked nested repository) gets a state that never repeats: such a stage
        always misses, which is slow but never wrong.
        """
        if path in self.opaque or (
            path in self.dirty and self.tracked.get(path, "").startswith(MODE_GITLINK)
        ):
            return f"{MODE_GITLINK} unreadable-{os.urandom(8).hex()}"
        if path in self.tracked and path not in self.dirty:
            return self.tracked[path]
        if path not in self._hashed:
            self._hashed[path] = file_state(self.top / path)
        return self._hashed[path]


def git_blob_id(content: bytes) -> str:
    """The id git gives a blob with this content (SHA-1 of "blob <size>\\0" + content)."""
    header = b"blob %d\0" % len(content)
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


def file_state(path: Path) -> str | None:
    """ "mode blob" as git would record the file: content, executable bit, symlink target.

    A symlink is its target's text (never followed); a directory or a missing file is None.
    """
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return f"{MODE_SYMLINK} {git_blob_id(os.fsencode(str(path.readlink())))}"
        if not stat.S_ISREG(info.st_mode):
            return None
        mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
        return f"{mode} {git_blob_id(path.read_bytes())}"
    except FileNotFoundError:
        return None


def take_snapshot(directory: Path) -> Snapshot | None:
    """The work tree containing `directory`, or None when it is not in one (or git fails).

    Raises GitError when git refuses the repository (its message quoted: "detected dubious
    ownership"), or is not installed.

    Three git processes: the top directory, the index (`ls-files -s`) and the status
    (`status --porcelain -z`, without taking the index lock, so concurrent runs and the
    user's own git commands never collide).
    """
    found = run_git(directory, "rev-parse", "--show-toplevel")
    problem = repository_problem(found)
    if problem is not None:
        raise GitError(problem)
    if found.returncode != 0 or not found.stdout.strip():
        return None
    top = Path(found.stdout.strip())
    index = run_git(top, "ls-files", "-s", "-z")
    status = run_git(
        top,
        *("-c", "core.fileMode=true", "--no-optional-locks", "status", "--porcelain=v1"),
        *("-z", "--untracked-files=all", "--no-renames"),
    )
    if index.returncode != 0 or status.returncode != 0:
        return None
    tracked, conflicted = _index_entries(index.stdout)
    dirty, untracked = _status_entries(status.stdout)
    return Snapshot(
        top=top,
        tracked=tracked,
        dirty=frozenset(dirty | conflicted),
        untracked=frozenset(p for p in untracked if not p.endswith("/")),
        opaque=frozenset(p.rstrip("/") for p in untracked if p.endswith("/")),
    )


def _index_entries(text: str) -> tuple[dict[str, str], set[str]]:
    tracked: dict[str, str] = {}
    conflicted: set[str] = set()
    for entry in text.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, blob, stage_number = meta.split(" ")
        if stage_number != "0":
            conflicted.add(path)
        tracked[path] = f"{mode} {blob}"
    return tracked, conflicted


def _status_entries(text: str) -> tuple[set[str], set[str]]:
    dirty: set[str] = set()
    untracked: set[str] = set()
    for entry in text.split("\0"):
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.add(path)  # "sub/" is an untracked nested repository
        elif code != "!!":
            dirty.add(path)
    return dirty, untracked
