"""A stage's shapes, and the one place that translates between them.

A stage is configured (`StageConfig`), planned (`PlannedStage`, pipeline/plan.py), run
(`StageSpec`) and recorded (`StageRecord`). Every record of a stage, whether it ran,
never started, was reused from the cache or had not finished when the run ended, is
built here from its spec: a new stage fact is an edit in this module (and, for a key
of workflow.toml, in the config schema), not in each place that makes a record.

The record module is not imported until the first record is built: the first stage is
launched before it loads (tests/integration/test_start_path.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import StageConfig
from orchestrator.model.selection import SelectRun
from orchestrator.model.splitplan import SplitPlan
from orchestrator.model.status import StageStatus

if TYPE_CHECKING:
    from orchestrator.model.records import StagePart, StageRecord
    from orchestrator.model.testresults import TestsSummary


class Planned(Protocol):
    """What a planned stage tells the pool (pipeline/plan.py's `PlannedStage` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def config(self) -> StageConfig: ...
    @property
    def cwd(self) -> Path: ...
    @property
    def kind(self) -> str: ...  # "cpu" or "io"
    @property
    def needs(self) -> tuple[str, ...]: ...  # only those that are part of this run
    @property
    def expected_s(self) -> float | None: ...
    @property
    def cpu_demand(self) -> float: ...
    @property
    def split(self) -> SplitPlan | None: ...
    @property
    def split_parts(self) -> tuple[int, ...]: ...
    @property
    def select(self) -> SelectRun | None: ...


def spec_of(stage: Planned) -> StageSpec:
    """Config and plan -> what the pool needs to know about a planned stage."""
    config = stage.config
    return StageSpec(
        name=stage.name,
        number=stage.number,
        command=config.run,
        call=config.call,
        cwd=stage.cwd,
        env=dict(config.env),
        timeout=config.timeout,
        kill_grace=config.kill_grace,
        kind=stage.kind,
        # A stage that writes the sources runs alone: its changes are its own, and no
        # other stage reads a file half written.
        serial=config.serial or config.writes,
        uses=config.uses,
        needs=stage.needs,
        retries=config.retries,
        expected_s=stage.expected_s,
        cpu_demand=stage.cpu_demand,
        junit=config.junit,
        rerun_failed=config.rerun_failed,
        split=stage.split,
        split_parts=stage.split_parts,
        select=stage.select,
    )


@dataclass(frozen=True, kw_only=True)
class Measured:
    """What running (or not running) a stage found: the record's fields that are not facts
    of the stage itself. Seconds from the run's start or of wall time; bytes; percent of
    one core."""

    status: StageStatus
    exit_code: int | None = None
    attempts: int = 0
    start_offset_s: float = 0.0
    duration_s: float = 0.0
    cpu_seconds: float = 0.0
    cpu_percent: float = 0.0
    peak_rss_bytes: int = 0
    worker: str | None = None
    executor: str | None = None
    log: str | None = None
    error: str | None = None
    nice: int = 0
    tests: TestsSummary | None = None
    parts: tuple[StagePart, ...] = ()
    runner_fault: str | None = None


def record_of(spec: StageSpec, measured: Measured) -> StageRecord:
    """Spec -> record of a stage that ran: what it is, how it was scheduled (the replay
    reads these back), and what it measured."""
    return _record(spec, measured, scheduled=True)


def unrun(spec: StageSpec, measured: Measured) -> StageRecord:
    """Spec -> record of a stage that did not run here: never started (skipped,
    cancelled, refused), reused from the cache, or not finished when the run ended."""
    return _record(spec, measured, scheduled=False)


def unstarted(spec: StageSpec, status: StageStatus, reason: str) -> StageRecord:
    """The record of a stage that never started (skipped, cancelled, unsatisfiable)."""
    return unrun(spec, Measured(status=status, error=reason))


def _record(spec: StageSpec, m: Measured, *, scheduled: bool) -> StageRecord:
    from orchestrator.model.records import StageRecord  # noqa: PLC0415 - see the module docstring

    return StageRecord(
        # What the stage is, in every record of it.
        number=spec.number,
        name=spec.name,
        kind=spec.kind,
        command=spec.display,
        runs=spec.runs,
        needs=spec.needs,
        uses=spec.uses,
        # How the pool scheduled it: only a stage that ran was scheduled.
        serial=spec.serial if scheduled else False,
        expected_s=spec.expected_s if scheduled else None,
        cpu_demand=spec.cpu_demand if scheduled else None,
        # What it measured.
        status=m.status,
        exit_code=m.exit_code,
        attempts=m.attempts,
        start_offset_s=m.start_offset_s,
        duration_s=m.duration_s,
        cpu_seconds=m.cpu_seconds,
        cpu_percent=m.cpu_percent,
        peak_rss_bytes=m.peak_rss_bytes,
        worker=m.worker,
        executor=m.executor,
        log=m.log,
        error=m.error,
        nice=m.nice,
        tests=m.tests,
        parts=m.parts,
        runner_fault=m.runner_fault,
    )
