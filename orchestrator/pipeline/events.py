"""What a run says while it runs (`RunEvent`) and what it decided (`RunResult`): values.

Apart from the run's entry point (`pipeline/workflow.py`, which re-exports them as its
public API) so that the pre-push check, which runs one commit through that entry point,
can name them without importing it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.engine.pool import StageEvent
from orchestrator.model.masking import Masker
from orchestrator.pipeline.plan import Plan
from orchestrator.pipeline.request import RunStart

if TYPE_CHECKING:
    from orchestrator.model.records import RunRecord


class Notice(NamedTuple):
    """A line worth saying now: a warning (`history not read: ...`) or news (waiting)."""

    text: str
    warning: bool = True


class RunStarted(NamedTuple):
    """The run has a directory and a plan; no stage has started yet."""

    plan: Plan
    run_dir: Path
    masker: Masker


class ShardChosen(NamedTuple):
    """A shard's entries in the plan (`stages` empty: the shard runs no stage)."""

    shard: str
    stages: tuple[str, ...]


class StagesEnded(NamedTuple):
    """Every stage has ended; judging and reports follow."""

    record: RunRecord  # not judged yet: no `sla`, no bottlenecks


RunEvent = Notice | ShardChosen | RunStarted | StageEvent | StagesEnded


class RunResult(NamedTuple):
    """What a run decided: its exit code (DESIGN's table) and, when stages ran, the record.

    `record` is None when nothing ran: nothing changed (`plan` None, `reasons` say why) or
    a dry run (`plan` set). `start` is the run's identity, directory, masker and its
    `warnings` (a `WriteWarnings`: every destination that could not be written, one line
    each; none changes the exit code).
    """

    exit_code: int
    plan: Plan | None
    reasons: tuple[str, ...]
    record: RunRecord | None = None
    start: RunStart | None = None
    reports: tuple[Path, ...] = ()
    # A dry run: per stage, "would run" or "cached from RUN".
    cache_preview: Mapping[str, str] | None = None
    # A push of several commits: each one's result, in the order they were checked (this
    # result is then the worst of them).
    commits: tuple[RunResult, ...] = ()

    @property
    def run_dir(self) -> Path | None:
        """The run's directory under the reports directory, when it ran."""
        return None if self.start is None else self.start.run_dir
