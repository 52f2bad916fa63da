"""Bottlenecks: one finding per stage and cause, savings from the replay, on hand-built runs.

The three runs named after projects are shaped like the reports that misled on them: one
fact reported three times with three savings, a 0.06 s stage blamed for the wall time,
a failure line that said the same thing twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings

from orchestrator.engine.scheduling.replay import replay_record, simulate
from orchestrator.model.records import (
    Bottleneck,
    HostRecord,
    PoolRecord,
    RunRecord,
    StageRecord,
    StageStatus,
)
from orchestrator.model.runs import Runs
from orchestrator.model.testresults import TestsSummary
from reports.view import stage_row
from sla.bottlenecks import attach_bottlenecks, find_bottlenecks, floor_s
from sla.headline import failure_lead, headline
from tests.helpers.reports_samples import GIB, record, stage
from tests.unit.test_replay import as_record, projects


def scheduled(*stages: StageRecord, overhead: float = 0.1, **fields: Any) -> RunRecord:
    """A record whose start offsets and workers are the ones the pool's policy gives."""
    run = record(*stages, **fields)
    placed = replay_record(run).placements
    timed = tuple(
        replace(s, start_offset_s=placed[s.name].start_s, worker=f"w{placed[s.name].slot}")
        if s.name in placed
        else s
        for s in stages
    )
    wall = max(p.end_s for p in placed.values()) + overhead
    return replace(run, stages=timed, pool=replace(run.pool, total_duration_s=wall))


def judged(run: RunRecord, **kwargs: Any) -> RunRecord:
    return attach_bottlenecks(run, replay_record(run), **kwargs)


def about(run: RunRecord, name: str | None) -> list[Bottleneck]:
    return [b for b in run.bottlenecks if b.stage == name]


def pydantic_like() -> RunRecord:
    """Integration sets a 59 s run; unit (37 s) is slow by the seed's rule but off the path."""
    return judged(
        scheduled(
            stage("lint", 2.0, number=2, kind="cpu", expected_s=2.0),
            stage("typecheck", 12.0, number=3, kind="cpu", expected_s=12.0),
            stage("unit", 37.2, number=4, kind="cpu", expected_s=37.0),
            stage("integration", 58.9, number=5, kind="cpu", expected_s=58.0),
            stage("security", 4.0, number=6, kind="cpu", expected_s=4.0),
            workers=4,
            pool=PoolRecord(usable_cpus=4.0, worker_utilization_percent=48.0),
        )
    )


def werkzeug_like() -> RunRecord:
    """One worker: integration then unit, and a 0.06 s lint that waited for the worker."""
    return judged(
        scheduled(
            stage("lint", 0.06, number=2, kind="io", expected_s=0.06, executor="thread"),
            stage("unit", 4.38, number=4, kind="cpu", expected_s=4.4, executor="process"),
            stage("integration", 5.0, number=5, kind="cpu", expected_s=5.0, executor="process"),
            workers=1,
            strategy="hybrid",
            pool=PoolRecord(usable_cpus=1.0),
        )
    )


def click_like() -> RunRecord:
    """The built-in stages on two cores: unit is slow, on the path, 6x lint: one fact."""
    return judged(
        scheduled(
            stage("lint", 1.0, number=2, kind="cpu"),
            stage("typecheck", 3.0, number=3, kind="cpu", expected_s=3.0),
            stage(
                "unit",
                6.0,
                number=4,
                kind="cpu",
                expected_s=6.0,
                exit_code=1,
                status=StageStatus.FAILED,
                error="exited with code 1",
            ),
            stage("security", 1.2, number=6, kind="cpu", expected_s=1.2),
            pool=PoolRecord(usable_cpus=2.0),
        )
    )


def test_a_pydantic_like_run_names_integration_once_with_the_replayed_saving() -> None:
    run = pydantic_like()
    (finding,) = about(run, "integration")
    assert finding.kind == "critical_path"
    # Halved, integration ends at 29.5 s and unit (37.2 s) sets the run: 21.7 s saved.
    assert finding.saving_s == pytest.approx(21.7)
    assert "2.6x the mean stage" in finding.detail
    assert not about(run, "unit")  # slow, but making it faster would not shorten the run
    assert run.pool.critical_path == ("integration",)
    assert headline(run) == (
        "The run took 59.0s; integration sets it (58.9s on the critical path). "
        "Halving it would save 21.7s; nothing else would save more than 0.6s."
    )


def test_a_werkzeug_like_run_names_the_path_and_lint_as_having_waited() -> None:
    run = werkzeug_like()
    assert run.pool.critical_path == ("integration", "unit")
    assert run.pool.waited == ("lint",)
    assert not about(run, "lint")
    path = {b.stage: b.saving_s for b in run.bottlenecks if b.kind == "critical_path"}
    assert path == {"integration": 2.5, "unit": 2.19}
    # One worker: unit ran after integration because the worker was busy, not because
    # it needs integration; the sentence says so.
    assert headline(run).startswith(
        "The run took 9.5s; integration, then unit on the same worker, set it (9.4s on the "
        "critical path), then lint only waited for a worker. Halving integration would save "
        "2.5s; next, halving unit would save 2.2s."
    )


def test_a_click_like_run_has_one_finding_for_unit_and_a_plain_failure_line() -> None:
    run = click_like()
    (finding,) = about(run, "unit")
    assert finding.kind == "critical_path"
    assert "2.1x the mean stage" in finding.detail and "6.0x the shortest, lint" in finding.detail
    # Halved, unit ends with typecheck at 3 s; security, started then, sets 4.2 s.
    assert finding.saving_s == pytest.approx(1.8)
    unit = run.stage("unit")
    assert unit is not None
    line = stage_row(unit, None, None).headline
    assert line == "failed with exit code 1"
    words = line.split()
    assert len(words) == len(set(words))


def test_a_failure_with_its_own_reason_keeps_it() -> None:
    failed = stage("unit", 1.0, status=StageStatus.FAILED, exit_code=1, error="3 tests failed")
    assert stage_row(failed, None, None).headline == "failed with exit code 1: 3 tests failed"


def test_a_need_that_holds_a_stage_back_is_its_own_cause_with_its_own_saving() -> None:
    run = judged(
        scheduled(
            stage("lint", 5.0, expected_s=5.0),
            stage("unit", 20.0, needs=("lint",), expected_s=20.0),
            stage("docs", 1.0),
            workers=3,
            strategy="process",
        )
    )
    kinds = {(b.stage, b.kind): b.saving_s for b in run.bottlenecks}
    assert kinds[("unit", "need_wait")] == pytest.approx(5.0)
    assert kinds[("unit", "critical_path")] == pytest.approx(10.0)
    assert kinds[("lint", "critical_path")] == pytest.approx(2.5)


def test_a_stage_that_waited_for_a_core_on_the_path_is_a_core_wait() -> None:
    run = judged(
        scheduled(
            stage("a", 10.0, kind="cpu", expected_s=10.0),
            stage("b", 8.0, kind="cpu", expected_s=8.0),
            workers=2,
            pool=PoolRecord(usable_cpus=1.0),
        )
    )
    (finding,) = [b for b in run.bottlenecks if b.kind == "core_wait"]
    assert finding.stage == "b"
    assert "waited 10.0s for a core" in finding.detail
    assert finding.saving_s == pytest.approx(8.0)  # with a second core both run at once


def test_cpu_lost_to_the_stages_beside_it_is_starvation() -> None:
    run = judged(
        record(
            stage("a", 10.0, cpu_percent=100, expected_s=10.0),
            stage("b", 4.0, cpu_percent=100, worker="w2", expected_s=4.0),
            strategy="process",
            pool=PoolRecord(usable_cpus=1.0, total_duration_s=10.0),
        )
    )
    # For 4 s the two wanted 2 cores of 1: each lost 2 s; only a, on the critical path,
    # held the run. Advice without a saving: the replay does not model contention.
    (finding,) = [b for b in run.bottlenecks if b.kind == "cpu_starved"]
    assert finding.stage == "a"
    assert "took 25% longer than it would alone" in finding.detail
    assert finding.saving_s is None


def test_one_more_worker_when_stages_queue_and_the_cores_allow() -> None:
    run = judged(
        scheduled(
            stage("a", 10.0, expected_s=10.0),
            stage("b", 10.0, expected_s=9.0),
            workers=1,
            strategy="thread",
            pool=PoolRecord(usable_cpus=4.0),
        )
    )
    (finding,) = [b for b in run.bottlenecks if b.kind == "worker_wait"]
    assert finding.stage is None and "b waited 10.0s for one of the 1 workers" in finding.detail
    assert "--workers 2" in finding.recommendation
    assert finding.saving_s == pytest.approx(10.0)


def test_savings_under_the_floor_are_not_findings() -> None:
    run = judged(scheduled(stage("a", 0.4), stage("b", 0.3), workers=1, strategy="thread"))
    assert not [b for b in run.bottlenecks if b.saving_s is not None]
    assert "No single change found would save more than" in headline(run)
    assert floor_s(4.0) == 0.5 and floor_s(200.0) == pytest.approx(2.0)


def test_a_cpu_bound_callable_on_a_thread_should_use_a_process() -> None:
    run = judged(
        record(
            stage(
                "crunch", 10.0, command="call pkg.mod:crunch", runs=Runs.CALLABLE, cpu_percent=97
            ),
            stage("lint", 5.0, cpu_percent=97, worker="w2", start_offset_s=2.0),
        )
    )
    (finding,) = [b for b in run.bottlenecks if b.kind == "strategy_mismatch"]
    assert finding.stage == "crunch" and "GIL" in finding.detail
    assert finding.saving_s is None


def test_stages_that_mostly_wait_do_not_need_a_process_pool() -> None:
    run = judged(
        record(
            stage("fetch", 10.0, executor="process", cpu_percent=3.0),
            stage("crunch", 10.0, executor="process", cpu_percent=95.0, worker="w2"),
        )
    )
    (finding,) = [b for b in run.bottlenecks if b.kind == "strategy_mismatch"]
    assert finding.stage == "fetch" and "--strategy thread" in finding.recommendation


def test_idle_workers_are_advice_without_a_saving() -> None:
    run = judged(
        record(stage("a", 10.0), workers=8, pool=PoolRecord(worker_utilization_percent=20))
    )
    (finding,) = [b for b in run.bottlenecks if b.kind == "worker_idle"]
    assert "--workers 2" in finding.recommendation and finding.saving_s is None
    assert run.bottlenecks[-1] == finding  # advice comes after what saves time


def test_idle_workers_advice_keeps_the_workers_the_replay_needs() -> None:
    three = (stage("a", 10.0), stage("b", 10.0), stage("c", 10.0))
    run = judged(scheduled(*three, workers=8, pool=PoolRecord(worker_utilization_percent=20)))
    (finding,) = [b for b in run.bottlenecks if b.kind == "worker_idle"]
    # 20% of 8 is 2 workers, but three stages side by side need 3 to end as soon.
    assert "--workers 3" in finding.recommendation


def test_a_cancelled_stage_gets_no_advice_to_be_faster() -> None:
    cut = replace(stage("slow", 30.0), status=StageStatus.CANCELLED)
    run = judged(scheduled(stage("quick", 1.0), cut))
    assert about(run, "slow") == []


def test_memory_near_the_limit_alone_or_together() -> None:
    alone = judged(
        record(stage("unit", 10.0, peak_rss_bytes=int(3.8 * GIB))),
        available_memory_bytes=4 * GIB,
    )
    (finding,) = [b for b in alone.bottlenecks if b.kind == "memory"]
    assert finding.stage == "unit" and "3.8 GiB of 4.0 GiB" in finding.detail
    together = record(
        stage("a", 10.0, peak_rss_bytes=2 * GIB),
        stage("b", 10.0, peak_rss_bytes=2 * GIB, worker="w2"),
        host=HostRecord(memory_bytes=4 * GIB),
    )
    (finding,) = [b for b in judged(together).bottlenecks if b.kind == "memory"]
    assert finding.stage is None


def test_a_dependency_cycle_does_not_break_the_finder() -> None:
    run = record(stage("a", 5.0, needs=("b",)), stage("b", 5.0, needs=("a",), worker="w2"))
    assert judged(run).bottlenecks == ()


@settings(deadline=None, max_examples=100)
@given(projects())
def test_any_run_gets_unique_ranked_findings_that_never_claim_more_than_the_wall(
    project: Any,
) -> None:
    stages, setup = project
    run = as_record(stages, setup, 0.01)
    found = find_bottlenecks(run, replay_record(run))
    keys = [(b.stage, b.kind) for b in found]
    assert len(keys) == len(set(keys))
    savings = [b.saving_s for b in found if b.saving_s is not None]
    assert savings == sorted(savings, reverse=True)
    wall = run.pool.total_duration_s
    assert all(x >= floor_s(wall) and x > 0 for x in savings)
    assert sum(savings) <= wall + 1e-6
    assert all(b.stage is None or run.stage(b.stage) for b in found)
    assert all(b.detail and b.recommendation for b in found)
    assert simulate(replay_record(run).stages, setup).keys() == {s.name for s in run.stages}


def test_a_failed_run_is_led_by_its_failed_stages_and_first_failed_tests() -> None:
    tests = TestsSummary(total=9, passed=6, failed=3, failed_ids=("t.py::a", "t.py::b", "t.py::c"))
    run = record(
        stage("unit", 2.0, status=StageStatus.FAILED, exit_code=1, tests=tests),
        stage("lint", 1.0, status=StageStatus.FAILED, exit_code=1, error="exited with code 1"),
        stage("slow", 9.0, status=StageStatus.TIMEOUT, exit_code=124),
        stage("docs", 1.0),
        exit_code=1,
    )
    assert failure_lead(run) == (
        "Failed: unit (3 failed tests: t.py::a, t.py::b and 1 more), "
        "lint (exited with code 1), slow (timed out after 9.0s)."
    )
    assert headline(run).startswith(failure_lead(run) + " The run took")
    assert failure_lead(record(stage("docs", 1.0))) == ""
