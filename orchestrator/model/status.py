"""The parts of a run record that exist before the first stage starts.

Statuses, the commit and the host are plain values, so that the path from `workflow run`
to the first stage never loads the validation library that the full record needs; the
record (`records.py`) is built while the stages already run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar


class StageStatus(StrEnum):
    """How a stage ended."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        """Passed is the only outcome that lets the run pass."""
        return self is StageStatus.PASSED


class SlaStatus(StrEnum):
    """A stage's (or the run's) standing against its target."""

    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    CRITICAL = "critical"
    NONE = "none"  # no target applies (e.g. a skipped stage)


# Read back with pydantic (records.py): a number where text belongs is read as its text.
_READ_WIDE: dict[str, object] = {"coerce_numbers_to_str": True}


@dataclass(frozen=True)
class GitRecord:
    """The commit the run checked."""

    __pydantic_config__: ClassVar[dict[str, object]] = _READ_WIDE

    sha: str | None = None
    branch: str | None = None
    base: str | None = None
    clean: bool | None = None  # no uncommitted changes to tracked files; None: unknown
    # Where the pre-push hook checked a pushed commit: "in place" (the checkout it was
    # pushed from) or "temporary worktree" (its own tree, checked out apart); None otherwise.
    tree: str | None = None


IN_PLACE = "in place"  # GitRecord.tree: the checkout the push was made from
WORKTREE = "temporary worktree"  # GitRecord.tree: the pushed commit's own tree, apart


@dataclass(frozen=True)
class CheckedCommit:
    """A pushed commit a run checks: its sha, the ref that names it ("topic"), and where
    (GitRecord.tree)."""

    sha: str
    name: str | None
    tree: str


@dataclass(frozen=True)
class HostRecord:
    """The machine, so that only comparable runs are compared."""

    __pydantic_config__: ClassVar[dict[str, object]] = _READ_WIDE

    cpus: int = 0  # usable cores: affinity and cgroup quota, rounded down, at least 1
    cpu_quota: float | None = None  # the cgroup CPU quota in cores, None when unlimited
    memory_bytes: int = 0
    available_memory_bytes: int = 0  # at the start of the run (memory-pressure findings)
    python: str = ""
    runner_class: str = ""


@dataclass(frozen=True)
class ShardOrigin:
    """What a shard's run was cut from, so `workflow merge` can tell shards that belong
    together from shards that only look alike (DESIGN.md, "Nothing incomplete passes").

    `plan`: a digest of the shard plan (every shard's stages and split plans); `config`: a
    digest of the configuration the run read; `planned`: every shard's entries (stages and
    `unit[2/3]` parts) by its "K/N" label, so a stage that ran on no shard is seen.
    """

    __pydantic_config__: ClassVar[dict[str, object]] = _READ_WIDE

    plan: str
    config: str = ""
    planned: dict[str, tuple[str, ...]] = field(default_factory=dict)
