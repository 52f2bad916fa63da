"""A split stage: its parts run side by side as pytest processes, folded into one record.

Each part is the stage's own command with workflow's pytest plugin (`-p workflow_split`;
every pytest stage has `engine/pytest/plugins` first on its PYTHONPATH) and a file that names
its part of the split plan; the plugin deselects every test that belongs to another
part. Every part collects the same tests and assigns them by id, so together they run
each collected test once (DESIGN.md: `split`; the record keeps one stage with its
`parts`); each part says what it collected, and parts that collected different tests
fail the stage. A part has its own log, JUnit file, attempts and reruns of its failed
tests, and its own `--basetemp` in a directory of its own (as pytest-xdist gives each
worker one: parts never share, nor delete, each other's temporary files, whatever
`addopts` pins), with `WORKFLOW_PART` (from 1) and `WORKFLOW_PARTS` in its environment
for tests that need resources of their own; the stage's log is the parts' logs one after
another.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.pytest.junit import without_junit
from orchestrator.engine.pytest.selectrun import selected, selecting, selection_env
from orchestrator.engine.spec import StageSpec
from orchestrator.engine.stage import PartSetup, Placement, Ran, StageRunner
from orchestrator.engine.stageshapes import Measured, record_of
from orchestrator.engine.subtasks import current_pool
from orchestrator.model.filenames import file_stem
from orchestrator.model.files import temporary_directory
from orchestrator.model.splitcheck import collection_error
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import merge_summaries
from orchestrator.model.writes import append_or_discard

if TYPE_CHECKING:
    from orchestrator.model.records import StagePart, StageRecord
    from orchestrator.model.splitplan import SplitPlan

PLUGIN = "workflow_split"
SPLIT_ENV = "WORKFLOW_SPLIT"
INLINE_MAX = 32_768  # characters of a part's JSON handed in the environment itself


def part_argv(argv: tuple[str, ...], basetemp: Path) -> tuple[str, ...]:
    """The stage's pytest command as a part runs it: without a JUnit file of the user's own
    (every part writes its own into the run directory), with the split plugin, and with
    the part's own `--basetemp` (last on the line: it wins over one in `addopts`)."""
    return (*without_junit(argv), "-p", PLUGIN, f"--basetemp={basetemp}")


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
    part_spec = replace(spec, junit=None if spec.junit is not False else False)
    part_spec = selecting(part_spec, runner.scratch_dir(), stem)  # the decision, once
    spec = replace(spec, select=part_spec.select)
    results: dict[int, tuple[Ran, Path]] = {}
    collected: dict[int, tuple[int, str] | None] = {}
    failures: list[BaseException] = []
    begun = time.monotonic()
    host = current_pool.get()  # the pool, told of each part that ends before the last
    running = [len(indexes)]
    counting = threading.Lock()

    def one(index: int) -> None:
        try:
            results[index], collected[index] = _run_part(runner, part_spec, where, (plan, index))
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
    parts = [
        _with_collection(part, collected.get(i)) for part, i in zip(parts, indexes, strict=True)
    ]
    done = [(part, results[i][0]) for part, i in zip(parts, indexes, strict=True)]
    record = _fold(runner, spec, where, done, log_path)
    processes = [f"{stem}.part{i + 1}" for i in indexes]
    tests = selected(
        spec, (runner.scratch_dir(), stem), processes, record.tests, runner.log_reference
    )
    return replace(record, tests=tests)


def _run_part(
    runner: StageRunner, part_spec: StageSpec, where: Placement, part: tuple[SplitPlan, int]
) -> tuple[tuple[Ran, Path], tuple[int, str] | None]:
    """One part (`part`: the plan and the part's index) run to its end: what it ran and
    its log, and what it collected."""
    plan, index = part
    part_stem = f"{file_stem(part_spec.name)}.part{index + 1}"
    report = runner.scratch_dir() / f"{part_stem}.collected.json"
    data = {"part": index, "plan": plan.to_data(), "report": str(report)}
    where_to = runner.scratch_dir() / f"{part_stem}.split.json"
    part_log = runner.log_path(part_spec.name, part_stem)
    env = {
        SPLIT_ENV: _handed(json.dumps(data), where_to),
        "WORKFLOW_PART": str(index + 1),
        "WORKFLOW_PARTS": str(plan.parts),
        **selection_env(part_spec, runner.scratch_dir(), part_stem),
    }
    own = _own_directory(runner, part_stem)
    command = part_argv(part_spec.command or (), own / "basetemp")
    ran = runner.execute(
        replace(part_spec, command=command), part_log, where, PartSetup(part_stem, env)
    )
    _tidy(runner, own, ran, part_log)
    return (ran, part_log), read_collected(report, since=ran.since)


def _own_directory(runner: StageRunner, part_stem: str) -> Path:
    """A new directory for a part's temporary files: under the system's temporary
    directory (outside the project: tests that make git repositories in `tmp_path` must
    not find the project's), else, when that cannot be written, in the run directory."""
    try:
        return temporary_directory(f"workflow-{part_stem}-")
    except OSError:
        return runner.scratch_dir() / f"{part_stem}.tmp"


def read_collected(path: Path, since: float) -> tuple[int, str] | None:
    """(tests collected, digest of their ids) that a part's plugin wrote after `since`
    (epoch seconds); None when it wrote nothing readable (it ended before collecting)."""
    try:
        if path.stat().st_mtime < since:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["collected"]), str(data["digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _with_collection(part: StagePart, collected: tuple[int, str] | None) -> StagePart:
    if collected is None:
        return part
    return replace(part, collected=collected[0], collection=collected[1])


def _tidy(runner: StageRunner, own: Path, ran: Ran, log: Path) -> None:
    """Remove a part's temporary files once it passed; keep a failed part's, and say where."""
    if ran.tests.attempt.status is StageStatus.PASSED:
        shutil.rmtree(own, ignore_errors=True)
        return
    with append_or_discard(log, runner.setup.warnings, text=True) as out:
        out.write(f"\n--- workflow: this part's temporary files are kept in {own} ---\n")


def _part(
    runner: StageRunner,
    result: tuple[Ran, Path],
    label: str,
    where: Placement,
    timing: tuple[float, float],
) -> StagePart:
    from orchestrator.model.records import StagePart  # noqa: PLC0415 - as engine/stageshapes.py

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
    status: StageStatus = StageStatus.PASSED
    code: int | None = 0
    error: str | None = None
    if bad is not None:
        status, code, error = bad.status, bad.exit_code, f"part {bad.part}: {bad.error or 'failed'}"
    elif (differ := collection_error(parts)) is not None:
        status, code, error = StageStatus.FAILED, None, differ
    end = max((p.start_offset_s + p.duration_s for p in parts), default=where.offset_s)
    duration = max(0.0, end - where.offset_s)
    cpu = sum(p.cpu_seconds for p in parts)
    summaries = [r.tests.summary for r in rans if r.tests.summary is not None]
    measured = Measured(
        status=status,
        exit_code=code,
        attempts=max((r.tries for r in rans), default=0),
        start_offset_s=round(where.offset_s, 4),
        duration_s=round(duration, 4),
        cpu_seconds=round(cpu, 4),
        cpu_percent=round(100.0 * cpu / duration, 1) if duration > 0 else 0.0,
        peak_rss_bytes=sum(p.peak_rss_bytes for p in parts),
        worker=f"{where.executor}-{where.slot}",
        executor=where.executor,
        log=runner.log_reference(log_path),
        error=error,
        nice=where.nice,
        tests=merge_summaries(summaries) if summaries else None,
        parts=tuple(parts),
        runner_fault=next((f for r in rans if (f := r.tests.attempt.runner_fault)), None),
    )
    return record_of(spec, measured)


def _join_logs(runner: StageRunner, log_path: Path, logs: list[tuple[str, Path]]) -> None:
    """The stage's log: each part's log under a line naming it."""
    with append_or_discard(log_path, runner.setup.warnings) as out:
        for label, path in logs:
            out.write(f"--- workflow: part {label} ({path.name}) ---\n".encode())
            try:
                out.write(path.read_bytes())
            except OSError as exc:
                out.write(f"(the part's log cannot be read: {exc.strerror})\n".encode())
