"""`run_workflow`: one whole run as a library call, the same one `workflow run` makes.

    plan (prepare_run) -> run the stages (execute_run) -> judge, report, record the
    history (finish_run)

Progress reaches the caller through `on_event`: `Notice`s whenever something is worth a
line (a locked history), `RunStarted` (the plan and the run's directory), the pool's
`StageEvent`s, then `StagesEnded` before judging. Nothing here prints, reads standard
input or exits; the caller renders what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from orchestrator.cache.verify import new_seed
from orchestrator.pipeline.cached import RunCache, preview
from orchestrator.pipeline.cachekeys import open_store
from orchestrator.pipeline.events import (
    Notice,
    RunEvent,
    RunResult,
    RunStarted,
    ShardChosen,
    StagesEnded,
)
from orchestrator.pipeline.prepare import Prepared, RunOptions, prepare_run
from orchestrator.pipeline.request import RunRequest, RunStart
from orchestrator.pipeline.run import execute_run, start_run

if TYPE_CHECKING:
    from orchestrator.pipeline.finish import Finisher

__all__ = [
    "Notice",
    "RunEvent",
    "RunOptions",
    "RunResult",
    "RunStarted",
    "ShardChosen",
    "StagesEnded",
    "run_workflow",
]


def run_workflow(
    options: RunOptions,
    on_event: Callable[[RunEvent], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Plan, run, judge, report and record one run; the judged record and exit code.

    `env` is the environment the lane decision reads (CI variables; default os.environ).
    With `options.shard` ("K/N") only that shard of the lane's shard plan runs
    (`shard_plan_file`, else the plan made again from the same history).
    Raises ConfigError, UsageError, UnknownStageError or ReportsDirError (exit code 2)
    before anything runs; a run interrupted by SIGINT/SIGTERM/SIGHUP returns exit code 130/143/129
    with its record.
    """
    emit = on_event or _ignore
    if options.shard is not None and options.shard_origin is None:
        sharded = _shard(options, emit)
        if isinstance(sharded, RunResult):
            return sharded
        options = sharded
    if options.push_lines is not None and not options.dry_run:
        # The pre-push hook: each pushed commit is checked on its own tree.
        from orchestrator.pipeline.pushcheck import check_push  # noqa: PLC0415 - the hook's

        return check_push(options, lambda ask: run_workflow(ask, on_event, env), emit, env)
    prepared = prepare_run(options, env, lambda line: emit(Notice(line)))
    if prepared.loaded.path is None:
        emit(Notice(f"configuration: {prepared.loaded.source}", warning=False))
    for note in prepared.loaded.notes:  # how the built-in stages follow the project
        emit(Notice(f"built-in stages: {note}", warning=False))
    if prepared.plan is None or options.dry_run:
        said = None
        if prepared.request is not None:
            request = prepared.request
            said = preview(request.loaded, request.plan, request.report_dir, lookup=options.cache)
        return RunResult(
            exit_code=0, plan=prepared.plan, reasons=prepared.reasons, cache_preview=said
        )
    return run_prepared(prepared, emit)


def _shard(options: RunOptions, emit: Callable[[RunEvent], None]) -> RunOptions | RunResult:
    """The options of shard `options.shard` (cut from `options.shard_plan_file`, else from
    the plan made again); a result when the plan had nothing to check at all (its record,
    no stages and passed, written unless a dry run)."""
    # The shard planner (with statistics) loads only for a shard: an ordinary run's first
    # stage does not wait for it. This function's deferred import.
    from orchestrator.pipeline.shards import nothing_to_check, shard_options  # noqa: PLC0415

    label, plan_file = options.shard or "", options.shard_plan_file
    # The plan is cut from the whole lane's options, as `workflow shard plan` cuts it.
    whole = options._replace(shard=None, shard_plan_file=None)
    options, stages = shard_options(whole, label, plan_file)
    emit(ShardChosen(options.shard or label, stages))
    if options.lane is not None:
        return options
    start = None if options.dry_run else nothing_to_check(options)
    return RunResult(exit_code=0, plan=None, reasons=(), start=start)


def run_prepared(
    prepared: Prepared, on_event: Callable[[RunEvent], None] | None = None
) -> RunResult:
    """Run a prepared plan: start it, run the stages, finish (judge, report, record)."""
    request = prepared.request
    if request is None:
        raise ValueError("a prepared run without a plan has nothing to run")
    emit = on_event or _ignore
    start = start_run(request)
    emit(RunStarted(request.plan, start.run_dir, start.masker))
    cache = run_cache(request, start, lambda line: emit(Notice(line)))
    # The finishing code (jinja2 and the compiled report template) loads while the stages
    # run: not before them, and not after.
    record = execute_run(
        request, start, emit, while_running=lambda: _finisher().prepare(), cache=cache
    )
    emit(StagesEnded(record))
    finished = _finisher().finish(
        prepared, start, record, lambda line: emit(Notice(line, warning=False))
    )
    return RunResult(
        exit_code=finished.record.exit_code or 0,
        plan=prepared.plan,
        reasons=prepared.reasons,
        record=finished.record,
        start=start,
        reports=finished.reports,
    )


def run_cache(
    request: RunRequest, start: RunStart, notice: Callable[[str], None] | None = None
) -> RunCache | None:
    """The run's use of the result cache, or None when `[workflow] cache` is "".

    `notice` hears why the cache cannot be used at all (git refuses the repository)."""
    store = open_store(request.loaded)
    if store is None:
        return None
    return RunCache(
        store=store,
        plan=request.plan,
        run_id=start.run_id,
        run_dir=start.run_dir,
        excluded=request.loaded.own_outputs(request.report_dir),
        warnings=start.warnings,
        lookup=request.cache_lookup,
        verify_rate=request.cache_verify if request.cache_lookup else 0.0,
        verify_seed=new_seed() if request.cache_verify_seed is None else request.cache_verify_seed,
        notice=notice,
    )


def _ignore(_event: RunEvent) -> None:
    pass


def _finisher() -> Finisher:
    # sla, reports and jinja2 cost more start-up than the first stage may wait: the helper
    # thread loads them while the stages run (this module's one deferred import).
    from orchestrator.pipeline.finish import Finisher  # noqa: PLC0415 - see the comment above

    return Finisher()
