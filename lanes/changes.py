"""The values lane detection passes around: changed files, change sets, lane decisions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orchestrator.model.config import Lane


class Status(StrEnum):
    """How git says a path changed (`--changed-files` lists only say it did)."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"
    TYPE_CHANGED = "type changed"
    UNTRACKED = "untracked"
    LISTED = "listed"


@dataclass(frozen=True)
class FileChange:
    """One changed file; a rename or copy also names where it came from."""

    path: str
    status: Status = Status.MODIFIED
    old_path: str | None = None
    added: int = 0  # lines; binary files count none
    deleted: int = 0

    @property
    def paths(self) -> tuple[str, ...]:
        """Every name the change touches: a rename from docs/ to src/ is not docs-only."""
        return (self.path,) if self.old_path is None else (self.old_path, self.path)

    @property
    def lines(self) -> int:
        """Added plus deleted lines."""
        return self.added + self.deleted


@dataclass(frozen=True)
class ChangeSet:
    """What changed and where that came from, or why it could not be determined."""

    files: tuple[FileChange, ...] = ()
    description: str = "the given changes"  # a phrase: "origin/main...HEAD (merge base 1a2b3c4d)"
    base: str | None = None
    undetermined: str | None = None  # set: the changes are unknown, for this reason
    lines_known: bool = True  # False for `--changed-files` lists
    notes: tuple[str, ...] = ()  # further sentences for the reasons

    @property
    def paths(self) -> tuple[str, ...]:
        """Every changed name, sorted, each once."""
        return tuple(sorted({path for change in self.files for path in change.paths}))

    @property
    def file_count(self) -> int:
        """How many files changed (a rename is one file)."""
        return len({change.path for change in self.files})

    @property
    def line_count(self) -> int:
        """Added plus deleted lines over every file."""
        return sum(change.lines for change in self.files)


@dataclass(frozen=True)
class LaneDecision:
    """The lane a change deserves and the sentences that say why."""

    lane: Lane | None  # None means "no change at all: nothing to check"
    reasons: tuple[str, ...]  # human sentences: which files and which rule, or why HEAVY
    base: str | None = None  # the base sha/ref compared against, when known
    changed: tuple[str, ...] = ()  # changed paths considered

    def as_json(self) -> dict[str, object]:
        """The decision as `workflow lane --json` prints it."""
        return {
            "lane": None if self.lane is None else self.lane.value,
            "reasons": list(self.reasons),
            "base": self.base,
            "changed": list(self.changed),
        }


def merge_change_sets(parts: tuple[ChangeSet, ...], description: str) -> ChangeSet:
    """Several pushed refs are one change set; any unknown part makes the whole unknown."""
    undetermined = next((part.undetermined for part in parts if part.undetermined), None)
    bases = tuple(dict.fromkeys(part.base for part in parts if part.base))
    return ChangeSet(
        files=tuple(change for part in parts for change in part.files),
        description=description,
        base=", ".join(bases) or None,
        undetermined=undetermined,
        lines_known=all(part.lines_known for part in parts),
        notes=tuple(note for part in parts for note in part.notes),
    )
