"""One run, end to end: plan -> pool -> run record -> SLA -> reports (-> history).

The record is rewritten atomically after every stage ends (on a writer thread of its own,
`pipeline/recordflush`, never the pool's), so a run killed outright still leaves the
stages that finished; SIGINT/SIGTERM/SIGHUP end every stage's tree and leave a record
with the unfinished stages `cancelled`, and so does a failure of workflow's own (then the
run ends with `InternalError`, its traceback in the run directory). The record is masked
once, as it is built, before anything writes it; a run.json that cannot be written is a
warning, never the end of the run. What can wait (the record's module, the first
record, the caller's preparations for the end of the run) happens in a background thread
at low priority once the first stages are launched: nothing on the way to the first stage
waits for it, and it never takes a core from the stages themselves.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orchestrator.engine.pool import NICE_OFF_PATH, AdaptiveWorkerPool, StageEvent
from orchestrator.engine.pytest.junit import named_junit
from orchestrator.engine.stageshapes import spec_of
from orchestrator.model.config import StageConfig
from orchestrator.model.errors import ExitCode, ReportsDirError
from orchestrator.model.filenames import RunDir
from orchestrator.model.files import make_own_directory, reserve_space
from orchestrator.model.masking import Masker, run_masker
from orchestrator.model.run_order import started_text
from orchestrator.model.writes import reason
from orchestrator.pipeline.broken import broken_code, fail_run, full_breaks, halt, start_helper
from orchestrator.pipeline.cachechecks import CacheChecks
from orchestrator.pipeline.plan import Plan
from orchestrator.pipeline.recorder import RecordWriter
from orchestrator.pipeline.recordflush import RecordFlusher
from orchestrator.pipeline.request import RunRequest, RunStart
from orchestrator.pipeline.signals import interrupted_code, signals_cancel
from orchestrator.pipeline.sourceguard import SourceGuard

if TYPE_CHECKING:
    from orchestrator.model.records import RunRecord, StageRecord
    from orchestrator.pipeline.cached import RunCache

LAUNCH_WAIT_S = 2.0  # the helper thread waits at most this long for the first launches
RESERVE_NAME = ".room-for-run.json"  # kept free for the record (model/files.reserve_space)
RESERVE_BYTES = 256 * 1024


def new_run_id(now: datetime) -> str:
    """Sortable and unique: UTC time to the microsecond plus a few random characters.

    E.g. "20261130T160812.123456Z-1a2b3c"; the random part only keeps ids unique
    across machines, it never orders runs (`run_order` does, from `started_at`).
    """
    return f"{now.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}-{os.urandom(3).hex()}"


def stage_exit_code(stages: tuple[StageRecord, ...]) -> ExitCode:
    """1 when any stage did not pass, else 0 (the SLA verdict may raise it to 3)."""
    return ExitCode.OK if all(s.status.ok for s in stages) else ExitCode.STAGE_FAILED


def plan_masker(plan: Plan) -> Masker:
    """The masker for everything a run of `plan` prints or writes: the secrets of this
    environment and of every stage's own `env`."""
    return run_masker(s.config.env for s in plan.stages)


def start_run(request: RunRequest) -> RunStart:
    """Create the run's directory and the masker for its logs.

    Raises ReportsDirError naming the reports directory when it cannot be created: nothing
    has run yet, and a run with nowhere to put its record is not worth starting.
    """
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    run_dir = request.report_dir / run_id
    try:
        make_own_directory(request.report_dir)  # git ignores it (its own .gitignore)
        RunDir(run_dir).logs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportsDirError(
            f"{request.report_dir}: cannot create the reports directory: {reason(exc)}."
        ) from exc
    # Room for the record, should the stages' logs fill the device (a broken runner).
    reserve_space(run_dir / RESERVE_NAME, RESERVE_BYTES)
    return RunStart(
        run_id=run_id,
        started_at=started_text(now),
        run_dir=run_dir,
        masker=plan_masker(request.plan),
    )


def execute_run(
    request: RunRequest,
    start: RunStart,
    on_event: Callable[[StageEvent], None] | None = None,
    *,
    while_running: Callable[[], object] | None = None,
    cache: RunCache | None = None,
) -> RunRecord:
    """Run the plan's stages; the final record (SLA and reports are applied later).

    Once the first stages are launched, a helper thread writes the first record and then
    calls `while_running` (work the caller wants done during the run, off its start).
    With a `cache`, stages it answers are not started, and passes are offered to it.
    """
    writer = RecordWriter(request, start)
    writer.cache = cache
    guard = source_guard(request)
    writer.reused = cache.hits() if cache is not None else {}
    guard.begin(cache.work_tree() if cache is not None else None)
    pool = AdaptiveWorkerPool(
        request.plan.strategy,
        request.plan.workers,
        usable_cpus=request.plan.usable_cpus,
        fail_fast=request.plan.fail_fast,
        log_dir=RunDir(start.run_dir).logs,
        masker=start.masker,
        import_root=request.loaded.root,
        sizing_reason=request.plan.sizing_reason,
        warnings=start.warnings,
        resources=request.loaded.config.resources,
        end_check=guard.check,
    )

    # A stage's end only asks for the record: the writer thread builds and writes it, so
    # the pool admits the next stage without waiting for the disk (pipeline/recordflush).
    flusher = RecordFlusher(
        lambda: writer.write(writer.build(pool, exit_code=None, finished=False)),
        on_failure=lambda exc: halt(pool, exc),
    )
    checks = CacheChecks(cache, flusher.request)

    def relay(event: StageEvent) -> None:
        if event.kind == "start":
            guard.started(event.name)
        if event.kind == "end":
            if event.record is not None:
                checks.offer(event.record)
            flusher.request()
        if on_event is not None:
            on_event(event)

    pool.on_event = relay
    try:
        _submit(pool, writer, relay)
        start.warnings.on_full = full_breaks(pool, start.run_dir)
        received, failures = _run_stages(pool, writer, checks, while_running)
    finally:
        # Stopped before the final record is written: nothing older may land after it.
        failures_of_writes = flusher.close()
    failures += failures_of_writes
    # After the stages, a destination too full is a warning again (DESIGN "Everything
    # workflow writes can fail"); the room kept for the record is given back for it.
    start.warnings.on_full = None
    (start.run_dir / RESERVE_NAME).unlink(missing_ok=True)
    if failures:
        fail_run(writer, pool, start, failures[0])
    record = writer.build(pool, exit_code=None, finished=True)
    code = interrupted_code(received) or broken_code(pool) or stage_exit_code(record.stages)
    record = replace(record, exit_code=int(code))
    writer.write(record)
    return record


def _run_stages(
    pool: AdaptiveWorkerPool,
    writer: RecordWriter,
    checks: CacheChecks,
    while_running: Callable[[], object] | None,
) -> tuple[list[int], list[BaseException]]:
    """Run the pool to its end, the helper thread beside it; the signals received and what
    failed in workflow's own work."""
    failures: list[BaseException] = []

    def meanwhile() -> None:
        _yield_to_stages()
        pool.launched.wait(LAUNCH_WAIT_S)
        try:
            writer.write_pending(pool)
            if while_running is not None:
                while_running()
        except Exception as exc:
            failures.append(exc)

    helper = start_helper(meanwhile)
    with signals_cancel(pool) as received:
        try:
            pool.wait_all()
        except Exception as exc:  # the pool ended every tree before letting this out
            failures.append(exc)
        finally:
            pool.shutdown()
    failures += checks.close()
    if helper is not None:
        helper.join()
    elif while_running is not None:  # no thread for it: what it would have done, now
        try:
            while_running()
        except Exception as exc:
            failures.append(exc)
    return received, failures


def source_guard(request: RunRequest) -> SourceGuard:
    """The run's guard against stages that edit the sources (made before the work tree
    is first read: a change after that moment is a stage's)."""
    stages = request.plan.stages
    writers = frozenset(s.name for s in stages if s.config.writes)
    root = request.loaded.root
    # A JUnit file a stage asks for (`junit = "path"`, or pytest's `--junit-xml` in its
    # argv) is the run's output, as its reports are: writing it is what it was asked to do.
    declared = tuple(root / s.config.cwd / path for s in stages for path in _junit_files(s.config))
    outputs = (*request.loaded.own_outputs(request.report_dir), *declared)
    return SourceGuard(root, outputs, writers)


def _junit_files(stage: StageConfig) -> tuple[str, ...]:
    named = named_junit(stage.run) if stage.run is not None else None
    return tuple(p for p in (stage.junit, named) if isinstance(p, str))


def _submit(
    pool: AdaptiveWorkerPool, writer: RecordWriter, relay: Callable[[StageEvent], None]
) -> None:
    """Give the pool every stage the cache did not answer; report the answered ones."""
    for stage in writer.request.plan.stages:
        if stage.name not in writer.reused:
            pool.submit(spec_of(stage))
    for reused in writer.reused.values():
        shown = writer.cache.annotate(reused) if writer.cache is not None else reused
        relay(StageEvent("end", reused.name, shown))


def _yield_to_stages() -> None:
    # On Linux a thread has its own niceness: this one only prepares, so it takes what the
    # stages leave. (Elsewhere the call would lower the whole process, so it is skipped.)
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE_OFF_PATH)
