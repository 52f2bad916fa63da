"""Every bottleneck rule on hand-built run records, and the ranking."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.records import (
    Bottleneck,
    HostRecord,
    PoolRecord,
    RunRecord,
    StageRecord,
    StageStatus,
)
from sla.bottlenecks import (
    BottleneckThresholds,
    attach_bottlenecks,
    critical_path,
    find_bottlenecks,
)
from tests.unit.test_reports_samples import GIB, record, stage


def of_kind(run: RunRecord, kind: str, **kwargs: object) -> list[Bottleneck]:
    return [b for b in find_bottlenecks(run, **kwargs) if b.kind == kind]  # type: ignore[arg-type]


def test_a_stage_over_one_and_a_half_times_the_mean_is_slow() -> None:
    run = record(stage("lint", 10), stage("typecheck", 10, worker="w2"), stage("unit", 40))
    (finding,) = of_kind(run, "slow_stage")
    assert finding.stage == "unit"
    assert finding.cost_s == pytest.approx(20.0)  # 40s against a 20s mean
    assert "2.0x the mean" in finding.detail
    assert "Split unit" in finding.recommendation


def test_no_stage_is_slow_when_all_are_alike_or_trivial() -> None:
    assert not of_kind(record(stage("a", 10), stage("b", 12)), "slow_stage")
    assert not of_kind(record(stage("a", 0.1), stage("b", 0.1), stage("c", 0.9)), "slow_stage")


def test_the_slow_stage_ratio_is_configurable() -> None:
    run = record(stage("a", 10), stage("b", 10), stage("c", 14))
    assert not of_kind(run, "slow_stage")
    loose = BottleneckThresholds(slow_stage_ratio=1.1)
    assert [b.stage for b in of_kind(run, "slow_stage", thresholds=loose)] == ["c"]


def test_the_longest_stage_over_three_times_the_shortest_is_uneven() -> None:
    run = record(
        stage("lint", 2.0),
        stage("unit", 10.0, worker="w2"),
        stage("tiny", 0.2),  # trivial: not the "shortest" that counts
    )
    (finding,) = [b for b in of_kind(run, "uneven_distribution") if b.stage == "unit"]
    assert "5.0x the shortest stage, lint" in finding.detail
    assert finding.cost_s == pytest.approx(4.0)  # 10s against 12s of work over 2 workers


def test_uneven_stages_do_not_matter_to_one_worker() -> None:
    run = record(stage("lint", 2.0), stage("unit", 10.0), workers=1)
    assert not [b for b in of_kind(run, "uneven_distribution") if b.stage is not None]


def test_worker_busy_times_spread_over_three_times_are_uneven() -> None:
    run = record(
        stage("a", 12.0, worker="w1"),
        stage("b", 12.0, worker="w1", start_offset_s=12.0),
        stage("c", 6.0, worker="w1", start_offset_s=24.0),
        stage("d", 5.0, worker="w2"),
    )
    (finding,) = [b for b in of_kind(run, "uneven_distribution") if b.stage is None]
    assert "worker w1 was busy 30.0s, worker w2 only 5.0s (6.0x)" in finding.detail
    assert finding.cost_s == pytest.approx(12.5)  # 30s against a 17.5s mean


def test_a_cpu_bound_callable_on_a_thread_should_use_a_process() -> None:
    run = record(
        stage("crunch", 10.0, command="call pkg.mod:crunch", cpu_percent=97, executor="thread"),
        stage("lint", 5.0, cpu_percent=97, executor="thread", worker="w2", start_offset_s=2.0),
    )
    (finding,) = of_kind(run, "strategy_mismatch")
    assert finding.stage == "crunch"
    assert "GIL" in finding.detail
    assert "--strategy process or hybrid" in finding.recommendation
    assert finding.cost_s == pytest.approx(5.0)  # the seconds it shared the interpreter


def test_a_cpu_bound_command_on_a_thread_is_fine() -> None:
    # A thread only waits on a child process; the child has its own interpreter.
    run = record(stage("lint", 10.0, command="ruff check .", cpu_percent=99, executor="thread"))
    assert not of_kind(run, "strategy_mismatch")


def test_stages_that_mostly_wait_do_not_need_a_process_pool() -> None:
    run = record(
        stage("fetch", 10.0, executor="process", cpu_percent=3.0),
        stage("crunch", 10.0, executor="process", cpu_percent=95.0, worker="w2"),
    )
    (finding,) = of_kind(run, "strategy_mismatch")
    assert finding.stage == "fetch"
    assert "--strategy thread" in finding.recommendation


def test_a_pool_busy_under_half_the_time_is_too_big() -> None:
    run = record(stage("a", 10.0), workers=8, pool=PoolRecord(worker_utilization_percent=20.0))
    (finding,) = of_kind(run, "pool_underused")
    assert "--workers 2" in finding.recommendation
    assert finding.cost_s == 0  # idle workers cost resources, not wall time


@pytest.mark.parametrize(
    ("workers", "utilization"),
    [(1, 10.0), (4, 0.0), (4, 50.0), (4, 90.0)],  # 0.0: not measured
)
def test_a_busy_or_single_worker_pool_is_not_underused(workers: int, utilization: float) -> None:
    pool = PoolRecord(worker_utilization_percent=utilization)
    assert not of_kind(record(stage("a", 10.0), workers=workers, pool=pool), "pool_underused")


def three_cpu_bound(overlap: float) -> RunRecord:
    return record(
        stage("a", 10.0, cpu_percent=100),
        stage("b", 10.0, cpu_percent=100, worker="w2"),
        stage("c", overlap, cpu_percent=100, worker="w3"),
        workers=3,
        pool=PoolRecord(usable_cpus=2.0),
    )


def test_more_cpu_demand_than_cores_for_long_is_oversubscription() -> None:
    (finding,) = of_kind(three_cpu_bound(10.0), "pool_oversubscribed")
    assert "3.0 cores of the 2 usable, for 10.0s" in finding.detail
    assert finding.cost_s == pytest.approx(10 / 3, abs=0.01)  # a third of the time lost


def test_brief_oversubscription_is_tolerated_unless_the_threshold_says_otherwise() -> None:
    assert not of_kind(three_cpu_bound(3.0), "pool_oversubscribed")
    strict = BottleneckThresholds(oversubscribed_min_s=1.0)
    assert of_kind(three_cpu_bound(3.0), "pool_oversubscribed", thresholds=strict)


def test_oversubscription_uses_the_host_cores_when_the_pool_did_not_say() -> None:
    run = replace(three_cpu_bound(10.0), pool=PoolRecord(), host=HostRecord(cpus=4))
    assert not of_kind(run, "pool_oversubscribed")


def test_a_stage_near_the_available_memory_is_pressure() -> None:
    run = record(
        stage("unit", 10.0, peak_rss_bytes=int(3.8 * GIB)),
        host=HostRecord(memory_bytes=4 * GIB),
    )
    (finding,) = of_kind(run, "memory_pressure")
    assert finding.stage == "unit"
    assert "3.8 GiB of 4.0 GiB" in finding.detail
    assert "max_rss_mb" in finding.recommendation


def test_stages_near_the_memory_together_are_pressure() -> None:
    run = record(
        stage("a", 10.0, peak_rss_bytes=2 * GIB),
        stage("b", 10.0, peak_rss_bytes=2 * GIB, worker="w2"),
        stage("c", 10.0, peak_rss_bytes=2 * GIB, start_offset_s=10.0),
    )
    (finding,) = of_kind(run, "memory_pressure", available_memory_bytes=4 * GIB)
    assert finding.stage is None
    assert "4.0 GiB" in finding.detail
    assert not of_kind(run, "memory_pressure", available_memory_bytes=16 * GIB)


def test_the_critical_path_follows_needs_and_halving_the_slowest_stage() -> None:
    run = record(
        stage("lint", 5.0),
        stage("unit", 40.0, start_offset_s=5.0, needs=("lint",)),
        stage("typecheck", 20.0, worker="w2"),
        pool=PoolRecord(total_duration_s=45.0),
    )
    assert critical_path(run) == ("lint", "unit")
    (finding,) = of_kind(run, "critical_path")
    assert finding.stage == "unit"
    assert "lint → unit" in finding.detail
    assert "would take the run to about 25.0s" in finding.detail
    assert finding.cost_s == pytest.approx(20.0)


def test_the_critical_path_follows_a_wait_for_a_worker() -> None:
    run = record(
        stage("typecheck", 26.0, worker="w2"),
        stage("integration", 30.0, worker="w2", start_offset_s=26.1),
        stage("unit", 20.0, worker="w1"),
    )
    assert critical_path(run) == ("typecheck", "integration")


def test_the_pool_critical_path_wins_when_the_engine_recorded_one() -> None:
    run = record(stage("a", 5.0), pool=PoolRecord(critical_path=("x", "a")))
    assert critical_path(run) == ("x", "a")


def test_a_sequential_run_saves_half_its_slowest_stage() -> None:
    run = record(stage("a", 10.0), stage("b", 30.0, start_offset_s=10.0), workers=1)
    (finding,) = of_kind(run, "critical_path")
    assert finding.cost_s == pytest.approx(15.0)


def test_a_dependency_cycle_does_not_break_the_detector() -> None:
    run = record(stage("a", 5.0, needs=("b",)), stage("b", 5.0, needs=("a",), worker="w2"))
    assert not of_kind(run, "critical_path")
    assert critical_path(run)  # still names the chain that ended last


def test_skipped_stages_are_ignored() -> None:
    run = record(stage("a", 10.0), stage("b", 10.0), stage("c", 0.0, status=StageStatus.SKIPPED))
    assert not of_kind(run, "slow_stage")


def test_findings_are_ranked_by_the_seconds_they_cost() -> None:
    run = record(
        stage("lint", 5.0),
        stage("unit", 40.0, start_offset_s=5.0, needs=("lint",)),
        stage("typecheck", 20.0, worker="w2"),
        workers=8,
        pool=PoolRecord(total_duration_s=45.0, worker_utilization_percent=20.0),
    )
    found = find_bottlenecks(run)
    assert [b.cost_s for b in found] == sorted((b.cost_s for b in found), reverse=True)
    assert found[0].kind == "critical_path"
    assert found[-1].kind == "pool_underused"


def test_attach_bottlenecks_fills_the_record() -> None:
    run = record(stage("a", 10), stage("b", 10), stage("c", 40))
    assert attach_bottlenecks(run).bottlenecks == find_bottlenecks(run)


names = st.sampled_from(["lint", "typecheck", "unit", "integration", "security", "docs"])
stages = st.builds(
    stage,
    names,
    st.floats(min_value=0, max_value=3_000),
    start_offset_s=st.floats(min_value=0, max_value=3_000),
    status=st.sampled_from(list(StageStatus)),
    cpu_percent=st.floats(min_value=0, max_value=800),
    peak_rss_bytes=st.integers(min_value=0, max_value=64 * GIB),
    worker=st.sampled_from([None, "w1", "w2", "w3"]),
    executor=st.sampled_from([None, "thread", "process", "inline"]),
    command=st.sampled_from([None, "pytest", "call pkg.mod:fn"]),
    needs=st.lists(names, max_size=3).map(tuple),
)
runs = st.builds(
    record,
    workers=st.integers(min_value=1, max_value=16),
    pool=st.builds(
        PoolRecord,
        total_duration_s=st.floats(min_value=0, max_value=10_000),
        worker_utilization_percent=st.floats(min_value=0, max_value=100),
        usable_cpus=st.floats(min_value=0, max_value=64),
    ),
    host=st.builds(HostRecord, memory_bytes=st.integers(min_value=0, max_value=64 * GIB)),
)


@given(runs, st.lists(stages, max_size=8))
def test_any_run_gets_ranked_findings_about_its_own_stages(
    run: RunRecord, run_stages: list[StageRecord]
) -> None:
    run = replace(run, stages=tuple(run_stages))
    found = find_bottlenecks(run)
    costs = [b.cost_s for b in found]
    assert costs == sorted(costs, reverse=True)
    assert all(cost >= 0 for cost in costs)
    names_in_run = {s.name for s in run.stages}
    assert all(b.stage is None or b.stage in names_in_run for b in found)
    kinds = {"slow_stage", "uneven_distribution", "strategy_mismatch", "pool_underused"}
    kinds |= {"pool_oversubscribed", "memory_pressure", "critical_path"}
    assert {b.kind for b in found} <= kinds
    assert all(b.detail and b.recommendation for b in found)
