"""A split stage: its parts run side by side as pytest processes, folded into one record.

Each part is the stage's own command with workflow's pytest plugin (`-p workflow_split`;
every pytest stage has `engine/plugins` first on its PYTHONPATH) and a file that names
its part of the split plan; the plugin deselects every test that belongs to another
part. Every part collects the same tests, so together they run each collected test once
(DESIGN.md: `split`; the record keeps one stage with its `parts`). A part has its own
log, JUnit file, attempts and reruns of its failed tests; the stage's log is the parts'
logs one after another.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.junit import without_junit
from orchestrator.engine.selectrun import selected, selecting, selection_env
from orchestrator.engine.spec import StageSpec
from orchestrator.engine.stage import PartSetup, Placement, Ran, StageRunner, record_type
from orchestrator.engine.subtasks import current_pool
from orchestrator.model.filenames import file_stem
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import merge_summaries
from orchestrator.model.writes import append_or_discard

if TYPE_CHECKING:
    from orchestrator.model.records import StagePart, StageRecord

PLUGIN = "workflow_split"
SPLIT_ENV = "WORKFLOW_SPLIT"
INLINE_MAX = 32_768  # characters of a part's JSON handed in the environment itself


def part_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The stage's pytest command as a part runs it: without a JUnit file of the user's own
    (every part writes its own into the run directory) and with the split plugin."""
    return (*without_junit(argv), "-p", PLUGIN)


def _handed(text: str, path: Path) -> str:
    """WORKFLOW_SPLIT's value: the part's JSON itself when it is small (nothing to write,
    so an unwritable run directory cannot stop a part), else a file that holds it."""
    if len(text) <= INLINE_MAX:
        return text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        return text  # the environment then carries it, if the system takes one so long
    return str(path)


def run_split(runner: StageRunner, spec: StageSpec, where: Placement) -> StageRecord:
    """Run the parts of `spec.split` this run holds (all, or a shard's) at once; one record.

    Raises ValueError for a spec without a split plan.
    """
    plan = spec.split
    if plan is None:
        raise ValueError(f"stage {spec.name!r} has no split plan")
    indexes = spec.split_parts or tuple(range(plan.parts))
    stem = file_stem(spec.name)
    log_path = runner.log_path(spec.name)
    command = part_argv(spec.command or ())
    part_spec = replace(spec, command=command, junit=None if spec.junit is not False else False)
    part_spec = selecting(part_spec, runner.scratch_dir(), stem)  # the decision, once
    spec = replace(spec, select=part_spec.select)
    results: dict[int, tuple[Ran, Path]] = {}
    failures: list[BaseException] = []
    begun = time.monotonic()
    host = current_pool.get()  # the pool, told of each part that ends before the last
    running = [len(indexes)]
    counting = threading.Lock()

    def one(index: int) -> None:
        try:
            part_stem = f"{stem}.part{index + 1}"
            text = json.dumps({"part": index, "plan": plan.to_data()})
            where_to = runner.scratch_dir() / f"{part_stem}.split.json"
            part_log = runner.log_path(spec.name, part_stem)
            selection = selection_env(part_spec, runner.scratch_dir(), part_stem)
            setup = PartSetup(part_stem, {SPLIT_ENV: _handed(text, where_to), **selection})
            results[index] = (runner.execute(part_spec, part_log, where, setup), part_log)
        except BaseException as exc:  # re-raised in the stage's own thread below
            failures.append(exc)
        finally:
            with counting:
                running[0] -= 1
                others_run = running[0] > 0
            if others_run and host is not None:
                host.release_core(spec.name)  # its core may take another stage now

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in indexes[1:]]
    for thread in threads:
        thread.start()
    if indexes:
        one(indexes[0])
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    _join_logs(runner, log_path, [(plan.label(i), results[i][1]) for i in indexes])
    parts = [
        _part(runner, results[i], plan.label(i), where, (begun, plan.predicted_s(i)))
        for i in indexes
    ]
    done = [(part, results[i][0]) for part, i in zip(parts, indexes, strict=True)]
    record = _fold(runner, spec, where, done, log_path)
    processes = [f"{stem}.part{i + 1}" for i in indexes]
    tests = selected(
        spec, (runner.scratch_dir(), stem), processes, record.tests, runner.log_reference
    )
    return replace(record, tests=tests)


def _part(
    runner: StageRunner,
    result: tuple[Ran, Path],
    label: str,
    where: Placement,
    timing: tuple[float, float],
) -> StagePart:
    from orchestrator.model.records import StagePart  # noqa: PLC0415 - as record_type

    ran, log = result
    begun, predicted = timing
    last = ran.tests.attempt
    summary = ran.tests.summary
    return StagePart(
        part=label,
        status=last.status,
        exit_code=last.exit_code,
        start_offset_s=round(where.offset_s + ran.started - begun, 4),
        duration_s=round(ran.duration_s, 4),
        cpu_seconds=round(sum(a.cpu_seconds for a in ran.attempts), 4),
        peak_rss_bytes=max((a.peak_rss_bytes for a in ran.attempts), default=0),
        tests=None if summary is None else summary.total,
        predicted_s=predicted,
        log=runner.log_reference(log),
        junit=None if summary is None else summary.junit,
        error=last.error,
    )


def _fold(
    runner: StageRunner,
    spec: StageSpec,
    where: Placement,
    done: list[tuple[StagePart, Ran]],
    log_path: Path,
) -> StageRecord:
    """The stage's record from its parts: the first part that did not pass decides the
    status; wall time to the last part's end; CPU and peak memory added."""
    parts = [part for part, _ in done]
    rans = [ran for _, ran in done]
    bad = next((p for p in parts if p.status is not StageStatus.PASSED), None)
    end = max((p.start_offset_s + p.duration_s for p in parts), default=where.offset_s)
    duration = max(0.0, end - where.offset_s)
    cpu = sum(p.cpu_seconds for p in parts)
    summaries = [r.tests.summary for r in rans if r.tests.summary is not None]
    return record_type()(
        number=spec.number,
        name=spec.name,
        status=StageStatus.PASSED if bad is None else bad.status,
        exit_code=0 if bad is None else bad.exit_code,
        attempts=max((r.tries for r in rans), default=0),
        start_offset_s=round(where.offset_s, 4),
        duration_s=round(duration, 4),
        cpu_seconds=round(cpu, 4),
        cpu_percent=round(100.0 * cpu / duration, 1) if duration > 0 else 0.0,
        peak_rss_bytes=sum(p.peak_rss_bytes for p in parts),
        worker=f"{where.executor}-{where.slot}",
        executor=where.executor,
        kind=spec.kind,
        command=spec.display,
        log=runner.log_reference(log_path),
        error=None if bad is None else f"part {bad.part}: {bad.error or 'failed'}",
        needs=spec.needs,
        uses=spec.uses,
        serial=spec.serial,
        expected_s=spec.expected_s,
        cpu_demand=spec.cpu_demand,
        nice=where.nice,
        tests=merge_summaries(summaries) if summaries else None,
        parts=tuple(parts),
    )


def _join_logs(runner: StageRunner, log_path: Path, logs: list[tuple[str, Path]]) -> None:
    """The stage's log: each part's log under a line naming it."""
    with append_or_discard(log_path, runner.setup.warnings) as out:
        for label, path in logs:
            out.write(f"--- workflow: part {label} ({path.name}) ---\n".encode())
            try:
                out.write(path.read_bytes())
            except OSError as exc:
                out.write(f"(the part's log cannot be read: {exc.strerror})\n".encode())
