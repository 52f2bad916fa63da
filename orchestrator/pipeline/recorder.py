"""The run record while a run goes on: built from the pool, masked once, rewritten.

The record is masked as it is built, before run.json, reports or the history see it. A
run.json that cannot be written is a warning, never the end of the run; and when
workflow itself fails mid-run, what the stages did is still recorded (the unfinished ones
`cancelled`) before the run ends with one clear InternalError. The record's module loads
lazily, as in run.py: nothing here is on the way to the first stage.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, NoReturn

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.stageshapes import Measured, spec_of, unrun
from orchestrator.model.errors import ExitCode, InternalError
from orchestrator.model.filenames import RunDir
from orchestrator.model.masking import mask_fields
from orchestrator.model.status import GitRecord, StageStatus
from orchestrator.pipeline.plan import PlannedStage

if TYPE_CHECKING:
    from pathlib import Path

    from orchestrator.model.records import RunRecord, StageRecord, StageSla
    from orchestrator.pipeline.cached import RunCache
    from orchestrator.pipeline.request import RunRequest, RunStart

RECORD_NAME = RunDir.RECORD
TRACEBACK_NAME = "internal-error.txt"


class RecordWriter:
    """Builds the run record from the pool's results and rewrites run.json."""

    def __init__(self, request: RunRequest, start: RunStart) -> None:
        self.request = request
        self.run_id = start.run_id
        self.started_at = start.started_at
        self.path = RunDir(start.run_dir).record
        self.masker = start.masker
        self.warnings = start.warnings
        self.lock = threading.Lock()
        self.written = False
        self._git_lock = threading.Lock()
        self._git: GitRecord | None = None
        self.cache: RunCache | None = None
        self.reused: dict[str, StageRecord] = {}  # stages the result cache answered

    def git(self) -> GitRecord:
        """The run's commit, looked up on first use."""
        with self._git_lock:
            if self._git is None:
                found = self.request.git
                self._git = found if isinstance(found, GitRecord) else found()
            return self._git

    def build(
        self, pool: AdaptiveWorkerPool, *, exit_code: int | None, finished: bool
    ) -> RunRecord:
        """The record as it stands, every string masked; unfinished stages `cancelled`."""
        plan = self.request.plan
        done = {record.name: record for record in pool.results} | self.reused
        broken = pool.breaker.cause
        stages = [with_target(done.get(s.name) or pending(s, broken), s) for s in plan.stages]
        if self.cache is not None:
            stages = [self.cache.annotate(stage) for stage in stages]
        stages.sort(key=lambda s: (s.number, s.name))
        record = _run_record()(
            run_id=self.run_id,
            started_at=self.started_at,
            lane=plan.lane.value,
            lane_reasons=plan.lane_reasons,
            lane_forced=plan.lane_forced,
            shard=plan.shard,
            shard_plan=plan.shard_origin,
            strategy=plan.strategy.value,
            workers=plan.workers,
            git=self.git(),
            host=self.request.host,
            stages=tuple(stages),
            pool=replace(pool.metrics, chosen_by_workflow=plan.chosen_by_workflow),
            exit_code=exit_code,
            finished=finished,
            cache_verify=None if self.cache is None else self.cache.verification(),
            runner_broken=broken,
        )
        return mask_fields(record, self.masker)

    def write(self, record: RunRecord) -> None:
        with self.lock, self.warnings.guard(RECORD_NAME, self.path):
            self.written = True
            _write_record(record, self.path)

    def write_pending(self, pool: AdaptiveWorkerPool) -> None:
        """The first record, every stage still `cancelled`/"not finished", unless a stage
        has already ended and written a fuller one. A run killed outright leaves this."""
        record = self.build(pool, exit_code=None, finished=False)
        with self.lock, self.warnings.guard(RECORD_NAME, self.path):
            if not self.written:
                self.written = True
                _write_record(record, self.path)


def with_target(record: StageRecord, stage: PlannedStage) -> StageRecord:
    """The stage's record with its planned targets."""
    rss = stage.max_rss_bytes
    return replace(
        record,
        sla=_stage_sla()(target_s=stage.target_s, max_rss_bytes=rss),
        kind=record.kind or stage.kind,
    )


def pending(stage: PlannedStage, broken: str | None = None) -> StageRecord:
    """A stage that has not finished (yet): `cancelled`, "not finished"; when the runner
    broke (`broken`, its cause), it never will, and the record says why."""
    error = "not finished" if broken is None else f"not started: runner broken: {broken}"
    measured = Measured(status=StageStatus.CANCELLED, error=error, runner_fault=broken)
    return unrun(spec_of(stage), measured)


def internal_failure(
    writer: RecordWriter, pool: AdaptiveWorkerPool, start: RunStart, exc: BaseException
) -> NoReturn:
    """Record what the stages did (unfinished ones `cancelled`), keep the traceback in
    the run directory, and raise one clear InternalError."""
    pool.cancel(immediate=True)  # idempotent: nothing may run on after this
    writer.write(writer.build(pool, exit_code=int(ExitCode.STAGE_FAILED), finished=True))
    import traceback  # noqa: PLC0415 - only a failing run pays for it

    where = start.run_dir / TRACEBACK_NAME
    text = "".join(traceback.format_exception(exc))
    with start.warnings.guard("traceback", where):
        where.write_text(start.masker.mask(text), encoding="utf-8")
    summary = start.masker.mask(f"{type(exc).__name__}: {exc}".splitlines()[0])
    raise InternalError(
        f"internal error: {summary}; every stage was ended and the record written "
        f"(traceback in {where})."
    ) from exc


# The record module costs more start-up than the first stage may wait: it loads in the
# helper thread once the stages run (see pipeline/run.py); these three load it when asked.


def _run_record() -> type[RunRecord]:
    from orchestrator.model.records import RunRecord  # noqa: PLC0415 - see above

    return RunRecord


def _stage_sla() -> type[StageSla]:
    from orchestrator.model.records import StageSla  # noqa: PLC0415 - see above

    return StageSla


def _write_record(record: RunRecord, path: Path) -> None:
    from orchestrator.model.records import write_record  # noqa: PLC0415 - see above

    write_record(record, path)
