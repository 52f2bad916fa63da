"""Findings about the schedule on hand-built runs shaped like the reports that misled.

A stage off the critical path that others queue behind, a worker queue worded as a need,
waits longer than the record allows, a split stage's cores given back, advice against
workflow's own choices, and speed findings on runs whose timing says nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.engine.scheduling.replay import ReplaySetup, ReplayStage, replay_record, simulate
from orchestrator.model.records import PoolRecord, RunRecord, ShardRun, StagePart, StageStatus
from orchestrator.model.runs import Runs
from orchestrator.model.whatif import Link, WhatIf
from reports.html import render_html
from sla.bottlenecks import attach_bottlenecks
from sla.headline import headline
from sla.timing import why_untimed
from tests.helpers.reports_samples import record, stage
from tests.unit.findings_check import check
from tests.unit.test_sla_bottlenecks import judged, scheduled


def sleeps() -> RunRecord:
    """The issue's run: sleeps of 3.0, 2.0, 1.2 and 1.0 s on two workers."""
    return judged(
        scheduled(
            stage("a", 3.0, number=2, kind="io"),
            stage("b", 2.0, number=3, kind="io"),
            stage("c", 1.2, number=4, kind="io"),
            stage("d", 1.0, number=5, kind="io"),
            workers=2,
            strategy="process",
            overhead=0.0,
        )
    )


def test_halving_a_stage_others_queue_behind_is_found_with_the_replayed_saving() -> None:
    run = sleeps()
    # Halved, b ends at 1.0 s: c runs 1.0-2.2 on its worker and d moves there (2.2-3.2)
    # instead of waiting for a's worker (3.0-4.0): 0.8 s sooner, off the critical path.
    (queue,) = [b for b in run.bottlenecks if b.kind == "queue"]
    assert queue.stage == "b" and queue.saving_s == pytest.approx(0.8)
    assert queue.detail == (
        "b ran 2.0s off the critical path, but c queued behind it on the same worker: "
        "halved, it starts c sooner and moves d to the worker that frees first; halving "
        "it would take the run to about 3.2s."
    )
    assert run.pool.critical_path == ("a", "d")
    assert headline(run).startswith(
        "The run took 4.0s; a, then d on the same worker, set it (4.0s on the critical path)."
    )
    check(run)


def test_the_replay_moves_a_stage_to_the_worker_that_frees_first() -> None:
    stages = (
        ReplayStage("a", 2, 3.0),
        ReplayStage("b", 3, 2.0),
        ReplayStage("c", 4, 1.2),
        ReplayStage("d", 5, 1.0),
    )
    setup = ReplaySetup(workers=2, cores=2.0, budget_cores=False)
    before = simulate(stages, setup)
    after = simulate(stages, setup, WhatIf(stage="b", factor=0.5))
    assert (before["d"].slot, before["d"].start_s, before["d"].after) == (1, 3.0, "a")
    assert (after["d"].slot, after["d"].after) == (2, "c")
    assert after["d"].start_s == pytest.approx(2.2)
    assert after["d"].link is Link.WORKER


def test_a_split_stage_gives_a_core_back_when_a_part_ends() -> None:
    # Two cores, adaptive: pytest in two parts holds both; lint (CPU-bound) starts when
    # the first part ends at 30 s, not when the stage ends at 43 s.
    stages = (
        ReplayStage("pytest", 6, 43.0, kind="cpu", cpu_demand=2.0, expected_s=38.0,
                    parts=(30.0, 43.0)),
        ReplayStage("lint", 2, 9.8, kind="cpu", cpu_demand=1.0, expected_s=14.0),
    )  # fmt: skip
    placed = simulate(stages, ReplaySetup(workers=3, cores=2.0, budget_cores=True))
    assert placed["lint"].start_s == pytest.approx(30.0)
    assert (placed["lint"].after, placed["lint"].link) == ("pytest", Link.PART)
    halved = simulate(stages, ReplaySetup(3, 2.0, True), WhatIf(stage="pytest", factor=0.5))
    assert halved["lint"].start_s == pytest.approx(15.0)


def split_run(parts: tuple[StagePart, ...]) -> RunRecord:
    """The shape of the report that said "lint waited 153s for a core" of a lint that
    started at 111 s: a split unit gave a core back when its first part ended."""
    unit = stage(
        "unit", 153.0, number=4, kind="cpu", cpu_demand=float(len(parts)), expected_s=150.0,
        command="python -m pytest -q tests", runs=Runs.PYTEST, parts=parts, worker="process-1",
    )  # fmt: skip
    lint = stage("lint", 12.0, number=2, kind="cpu", cpu_demand=1.0, expected_s=12.0,
                 start_offset_s=111.05, worker="process-2")  # fmt: skip
    return judged(
        record(unit, lint, workers=2, strategy="adaptive",
               pool=PoolRecord(usable_cpus=2.0, total_duration_s=153.2))
    )  # fmt: skip


def test_a_stage_that_started_on_a_core_a_part_gave_back_did_not_wait_for_the_whole_stage() -> None:
    parts = (
        StagePart(part="1/2", status=StageStatus.PASSED, duration_s=111.0),
        StagePart(part="2/2", status=StageStatus.PASSED, duration_s=153.0),
    )
    run = split_run(parts)
    assert run.pool.untimed == ""
    assert not [b for b in run.bottlenecks if "waited 153" in b.detail]
    (path,) = [b for b in run.bottlenecks if b.kind == "critical_path" and b.stage == "unit"]
    assert path.recommendation.startswith(
        "Make unit faster: it ran all 2 of its parts here, and the longest, part 2/2, took 153s"
    )
    check(run)


def test_a_shard_says_which_parts_of_a_split_stage_it_ran() -> None:
    parts = (
        StagePart(part="1/4", status=StageStatus.PASSED, duration_s=111.0),
        StagePart(part="3/4", status=StageStatus.PASSED, duration_s=153.0),
    )
    run = replace(split_run(parts), shard="1/2")
    (path,) = [b for b in judged(run).bottlenecks if b.kind == "critical_path"]
    assert "it ran 2 of its 4 parts (1/4, 3/4) here" in path.recommendation
    assert "whole" not in path.recommendation


def test_a_stage_the_record_shows_elsewhere_than_the_replay_gets_no_saving() -> None:
    # The pool started b at 0 beside a: nothing the replay models (one worker) says so.
    run = judged(
        record(
            stage("a", 10.0, expected_s=10.0),
            stage("b", 10.0, expected_s=9.0, worker="w2"),
            workers=1,
            strategy="thread",
            pool=PoolRecord(usable_cpus=4.0, total_duration_s=10.1),
        )
    )
    assert run.pool.untimed == (
        "its schedule cannot be replayed: b started at 0.0s, the replay starts it at 10.0s"
    )
    assert [b for b in run.bottlenecks if b.saving_s is not None] == []
    assert run.pool.critical_path == ()
    assert headline(run) == (
        "The run took 10.1s; its schedule cannot be replayed: b started at 0.0s, the replay "
        "starts it at 10.0s, so no speed finding is made."
    )


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"exit_code": 130}, "the run was interrupted (exit 130)"),
        ({"exit_code": 143}, "the run was interrupted (exit 143)"),
        ({"exit_code": 5}, "the run ended with exit code 5, not with its stages' outcome"),
        ({"exit_code": None}, "the run did not finish"),
    ],
)
def test_no_speed_findings_on_a_run_that_did_not_end_by_itself(
    changes: dict[str, object], said: str
) -> None:
    run = judged(replace(sleeps(), bottlenecks=(), **changes))  # type: ignore[arg-type]
    assert why_untimed(run) == said and run.pool.untimed == said
    assert [b for b in run.bottlenecks if b.saving_s is not None] == []
    assert headline(run) == f"The run took 4.0s; {said}, so no speed finding is made."


@pytest.mark.parametrize(
    ("status", "code", "said"),
    [
        (StageStatus.CANCELLED, None, "c was cancelled"),
        (StageStatus.ERROR, 127, "c could not run"),
        (StageStatus.FAILED, 127, "c could not run its command (exit 127)"),
    ],
)
def test_no_speed_findings_when_a_stage_did_not_do_its_work(
    status: StageStatus, code: int | None, said: str
) -> None:
    base = sleeps()
    stages = tuple(
        replace(s, status=status, exit_code=code) if s.name == "c" else s for s in base.stages
    )
    run = judged(replace(base, stages=stages, exit_code=1, bottlenecks=()))
    assert run.pool.untimed == said
    assert [b for b in run.bottlenecks if b.saving_s is not None] == []


def test_a_pytest_stage_that_stopped_before_its_tests_ran_says_nothing_of_speed() -> None:
    unit = stage(
        "unit", 0.4, status=StageStatus.FAILED, exit_code=4, command="pytest -q", runs=Runs.PYTEST
    )
    lint = stage(
        "lint",
        3.0,
        worker="w2",
        status=StageStatus.FAILED,
        exit_code=4,
        command="ruff",
        runs=Runs.COMMAND,
    )
    assert why_untimed(record(unit, exit_code=1)) == (
        "unit stopped before its tests ran (pytest exit 4)"
    )
    assert why_untimed(record(lint, exit_code=1)) is None  # exit 4 is not pytest's here


def idle(chosen: tuple[str, ...]) -> RunRecord:
    return judged(
        record(
            stage("a", 10.0, executor="process", cpu_percent=3.0),
            workers=8,
            strategy="process",
            pool=PoolRecord(worker_utilization_percent=20, chosen_by_workflow=chosen),
        )
    )


def test_no_advice_against_a_worker_count_or_strategy_workflow_chose_itself() -> None:
    advice = {"worker_idle", "strategy_mismatch"}
    mine = idle(("strategy", "workers"))
    assert [b.kind for b in mine.bottlenecks if b.kind in advice] == []
    theirs = idle(())
    assert {b.kind for b in theirs.bottlenecks if b.kind in advice} == advice


def test_a_worker_queue_is_never_worded_as_a_need() -> None:
    run = judged(
        scheduled(
            stage("unit", 6.0, number=4, expected_s=6.0),
            stage("security", 3.0, number=6, expected_s=3.0),
            workers=1,
            strategy="process",
            overhead=0.0,
        )
    )
    text = headline(run)
    assert "unit → security" not in text
    assert "unit, then security on the same worker, set it" in text
    (path,) = [b for b in run.bottlenecks if b.stage == "security"]
    assert "(unit, then security on the same worker)" in path.detail
    check(run)


def test_a_need_is_a_need() -> None:
    run = judged(
        scheduled(
            stage("lint", 5.0, expected_s=5.0),
            stage("unit", 20.0, needs=("lint",), expected_s=20.0),
            workers=3,
            strategy="process",
        )
    )
    assert "lint → unit set it" in headline(run)
    (wait,) = [b for b in run.bottlenecks if b.kind == "need_wait"]
    assert wait.detail == "unit started at 5.0s, when lint (its needs) ended at 5.0s."
    check(run)


def test_one_more_core_is_named_only_for_a_wait_that_set_the_wall_time() -> None:
    # b waits for the one core, and the run waits on b: one more core saves b's wait.
    run = judged(
        scheduled(
            stage("a", 10.0, kind="cpu", expected_s=10.0),
            stage("b", 8.0, kind="cpu", expected_s=8.0),
            workers=2,
            pool=PoolRecord(usable_cpus=1.0),
        )
    )
    (core,) = [b for b in run.bottlenecks if b.kind == "core_wait"]
    assert core.stage == "b" and core.saving_s == pytest.approx(8.0)
    assert "One more core would save 8.0s" in headline(run)
    # c waits for the core as long, but a longer io stage sets the wall time: no core_wait.
    off_path = judged(
        scheduled(
            stage("a", 10.0, kind="cpu", expected_s=10.0),
            stage("c", 1.0, kind="cpu", expected_s=1.0),
            stage("slow", 30.0, kind="io", expected_s=30.0),
            workers=3,
            pool=PoolRecord(usable_cpus=1.0),
        )
    )
    assert [b for b in off_path.bottlenecks if b.kind == "core_wait"] == []
    check(off_path)


def test_attach_keeps_the_replays_path_only_for_a_timed_run() -> None:
    run = sleeps()
    again = attach_bottlenecks(replace(run, exit_code=130), replay_record(run))
    assert again.pool.critical_path == () and again.pool.waited == ()


def test_the_html_report_words_the_critical_path_as_the_headline_does(tmp_path: Path) -> None:
    page = render_html(sleeps(), tmp_path)
    assert "critical path: a, then d on the same worker" in page
    assert "a → d" not in page


def test_a_merged_run_leaves_its_findings_to_its_shards_reports() -> None:
    # Each shard's stages start from that shard's own start: one pool cannot replay them.
    merged = replace(
        sleeps(),
        bottlenecks=(),
        shards=(ShardRun(shard="1/2", run_id="r1"), ShardRun(shard="2/2", run_id="r2")),
    )
    run = judged(merged)
    assert run.pool.untimed == (
        "its 2 shards ran on separate runners, each with its own schedule: each shard's own "
        "report says what would save time there"
    )
    assert [b for b in run.bottlenecks if b.saving_s is not None] == []
    check(run)


def test_a_wait_for_a_shared_resource_is_worded_as_one() -> None:
    db = ("db",)
    run = judged(
        scheduled(
            stage("migrate", 4.0, number=2, uses=db, expected_s=4.0),
            stage("integration", 6.0, number=5, uses=db, expected_s=3.0),
            stage("lint", 1.0, number=3),
            workers=3,
            strategy="thread",
            pool=PoolRecord(usable_cpus=4.0, resources={"db": 1}),
            overhead=0.0,
        )
    )
    assert "migrate, then integration once migrate released db, set it" in headline(run)
    check(run)


def test_the_html_report_says_why_no_speed_finding_was_made(tmp_path: Path) -> None:
    run = judged(replace(sleeps(), exit_code=130, bottlenecks=()))
    page = render_html(run, tmp_path)
    assert "No speed finding: the run was interrupted (exit 130)." in page
    assert "None found." not in page
