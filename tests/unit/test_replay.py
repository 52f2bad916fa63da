"""The replay: the pool's admission policy over recorded durations, and its what-if answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.scheduling.replay import (
    Replay,
    ReplaySetup,
    ReplayStage,
    replay_record,
    simulate,
)
from orchestrator.model.records import PoolRecord, RunRecord, StageRecord, StageStatus
from orchestrator.model.whatif import WhatIf
from tests.helpers.reports_samples import record, stage

ONE = ReplaySetup(workers=1, cores=4, budget_cores=False)
TWO = ReplaySetup(workers=2, cores=4, budget_cores=False)


def s(name: str, duration: float, **fields: Any) -> ReplayStage:
    return ReplayStage(name=name, number=2, duration_s=duration, **fields)


def test_one_worker_runs_the_longest_expected_first_and_everything_is_on_the_path() -> None:
    run = Replay((s("a", 1.0, expected_s=1.0), s("b", 3.0, expected_s=3.0)), ONE)
    assert run.placements["b"].start_s == 0.0
    assert run.placements["a"].start_s == 3.0
    assert run.placements["a"].waited_worker_s == 3.0
    assert run.wall_s == 4.0
    assert run.critical_path == ("b", "a")
    assert run.halved() == {"a": 0.5, "b": 1.5}


def test_a_stage_starts_when_its_last_need_ends_and_names_it() -> None:
    three = ReplaySetup(workers=3, cores=4, budget_cores=False)
    run = Replay((s("lint", 1.0), s("types", 2.0), s("unit", 5.0, needs=("lint", "types"))), three)
    placed = run.placements["unit"]
    assert (placed.ready_s, placed.start_s, placed.after, placed.after_need) == (
        2.0,
        2.0,
        "types",
        True,
    )
    assert run.critical_path == ("types", "unit")
    assert run.saving(WhatIf(stage="unit", drop_needs=True)) == pytest.approx(2.0)


def test_a_serial_stage_runs_alone_and_what_waits_for_it_waits_for_a_worker() -> None:
    stages = (s("fmt", 2.0, serial=True, expected_s=9.0), s("a", 1.0), s("b", 1.0))
    run = Replay(stages, TWO)
    assert run.placements["fmt"].start_s == 0.0
    assert run.placements["a"].start_s == run.placements["b"].start_s == 2.0
    assert run.placements["a"].waited_worker_s == 2.0
    assert run.wall_s == 3.0


def test_under_the_core_budget_a_cpu_bound_stage_waits_for_a_core_not_a_worker() -> None:
    budget = ReplaySetup(workers=3, cores=1, budget_cores=True)
    stages = (s("a", 4.0, kind="cpu", expected_s=4.0), s("b", 2.0, kind="cpu"), s("io", 1.0))
    run = Replay(stages, budget)
    assert run.placements["io"].start_s == 0.0  # I/O-bound stages overlap freely
    assert run.placements["b"].start_s == 4.0
    assert run.placements["b"].waited_core_s == 4.0
    assert run.placements["b"].waited_worker_s == 0.0
    assert run.saving(WhatIf(more_cores=1.0)) == pytest.approx(2.0)


def test_a_short_stage_that_only_waited_for_a_worker_is_waiting_not_the_path() -> None:
    # The shape of a run whose report blamed a 0.06 s lint for the wall time.
    stages = (
        s("lint", 0.06, kind="io", expected_s=0.06),
        s("unit", 4.38, kind="cpu", expected_s=4.4),
        s("integration", 5.0, kind="cpu", expected_s=5.0),
    )
    run = Replay(stages, ReplaySetup(workers=1, cores=2, budget_cores=False))
    assert run.critical_path == ("integration", "unit")
    assert run.waiting == ("lint",)
    assert run.halved()["integration"] == pytest.approx(2.5)


def test_two_chains_of_equal_length_both_must_shrink_for_the_run_to() -> None:
    run = Replay((s("a", 5.0), s("b", 5.0)), TWO)
    assert run.halved() == {"a": 0.0, "b": 0.0}
    assert len(run.critical_path) == 1  # the chain that ended last; the other ties it


def test_a_gone_stage_and_a_cycle_of_needs() -> None:
    run = Replay((s("a", 2.0), s("b", 3.0, needs=("a",))), ONE)
    assert run.saving(WhatIf(stage="a", factor=0.0)) == pytest.approx(2.0)
    looped = Replay((s("a", 1.0, needs=("b",)), s("b", 1.0, needs=("a",)), s("c", 1.0)), TWO)
    assert set(looped.placements) == {"c"}  # the pool reports the others as unstartable


def test_a_cached_stage_replays_at_its_recorded_near_zero_duration() -> None:
    run = Replay((s("cached", 0.0, expected_s=30.0), s("unit", 4.0)), ONE)
    assert run.wall_s == 4.0
    assert run.halved()["cached"] == 0.0


def test_a_record_replays_with_its_pool_and_leaves_out_what_never_started() -> None:
    run = record(
        stage("a", 2.0, kind="cpu", cpu_demand=1.0),
        stage("b", 3.0, kind="cpu", needs=("gone",)),
        stage("gone", 0.0, status=StageStatus.SKIPPED, attempts=0),
        workers=4,
        strategy="adaptive",
        pool=PoolRecord(usable_cpus=1.0),
    )
    replayed = replay_record(run)
    assert [x.name for x in replayed.stages] == ["a", "b"]
    assert replayed.setup == ReplaySetup(workers=4, cores=1.0, budget_cores=True)
    assert replayed.wall_s == 5.0  # one core: the CPU-bound stages one after the other
    sequential = replay_record(replace(run, strategy="sequential"))
    assert sequential.setup.workers == 1


# -- properties over schedules the policy generated ------------------------------------
NAMES = ("lint", "typecheck", "unit", "integration", "security", "docs")


@st.composite
def projects(draw: st.DrawFn) -> tuple[tuple[ReplayStage, ...], ReplaySetup]:
    count = draw(st.integers(min_value=1, max_value=6))
    stages = []
    for i, name in enumerate(NAMES[:count]):
        needs = draw(st.lists(st.sampled_from(NAMES[:i]), max_size=2, unique=True)) if i else []
        stages.append(
            ReplayStage(
                name=name,
                number=i + 2,
                duration_s=draw(st.floats(min_value=0, max_value=60)),
                needs=tuple(needs),
                serial=draw(st.booleans()),
                kind=draw(st.sampled_from([None, "cpu", "io"])),
                expected_s=draw(st.none() | st.floats(min_value=0, max_value=60)),
            )
        )
    setup = ReplaySetup(
        workers=draw(st.integers(min_value=1, max_value=4)),
        cores=draw(st.sampled_from([1.0, 2.0, 4.0])),
        budget_cores=draw(st.booleans()),
    )
    return tuple(stages), setup


def as_record(stages: tuple[ReplayStage, ...], setup: ReplaySetup, overhead: float) -> RunRecord:
    """The record a run of this schedule leaves: starts a little late, as real ones do."""
    placed = simulate(stages, setup)
    records = tuple(
        StageRecord(
            number=x.number,
            name=x.name,
            status=StageStatus.PASSED,
            attempts=1,
            start_offset_s=placed[x.name].start_s + overhead,
            duration_s=x.duration_s,
            needs=x.needs,
            serial=x.serial,
            kind=x.kind,
            expected_s=x.expected_s,
        )
        for x in stages
    )
    wall = max(p.end_s for p in placed.values()) + 2 * overhead
    return record(
        *records,
        workers=setup.workers,
        strategy="adaptive" if setup.budget_cores else "process",
        pool=PoolRecord(usable_cpus=setup.cores, total_duration_s=wall),
    )


@settings(deadline=None, max_examples=150)
@given(projects(), st.floats(min_value=0, max_value=0.05))
def test_replaying_a_record_reproduces_its_schedule_and_savings_are_sane(
    project: tuple[tuple[ReplayStage, ...], ReplaySetup], overhead: float
) -> None:
    stages, setup = project
    run = as_record(stages, setup, overhead)
    replayed = replay_record(run)
    # Each stage keeps how late it started after the event before it (the pool's latency,
    # here `overhead` for the first ones): the replay starts it where the record has it
    # (a stage beside an instant one may lose that instant's lateness).
    last_end = run.pool.total_duration_s - overhead
    assert abs(replayed.wall_s - last_end) <= overhead + 1e-9
    for x in run.stages:
        assert abs(replayed.placements[x.name].start_s - x.start_offset_s) <= overhead + 1e-9
    halved = replayed.halved()
    assert all(saving >= 0 for saving in halved.values())
    assert set(replayed.critical_path) <= {x.name for x in stages}
    on_path = [halved[name] for name in replayed.critical_path]
    assert sum(on_path) <= replayed.wall_s + 1e-6


def test_a_short_stage_inside_the_chain_stays_on_it() -> None:
    # lint waited for the worker, then unit needed it: lint still links the chain.
    stages = (
        s("types", 3.0, expected_s=3.0),
        s("lint", 0.01, expected_s=0.01),
        s("unit", 2.0, expected_s=2.0, needs=("lint",)),
    )
    run = Replay(stages, ONE)
    assert run.critical_path == ("types", "lint", "unit")
    assert run.waiting == ()


def test_the_replay_honours_a_resource_limit_from_the_record() -> None:
    db = ("db",)
    recorded = record(
        stage("migrate", 2.0, uses=db),
        stage("integration", 3.0, start_offset_s=2.0, uses=db),
        stage("lint", 1.0),
        pool=PoolRecord(usable_cpus=4.0, resources={"db": 1}),
        workers=3,
        strategy="thread",
    )
    run = replay_record(recorded)
    migrate, integration = run.placements["migrate"], run.placements["integration"]
    assert integration.start_s >= migrate.end_s or migrate.start_s >= integration.end_s
    assert run.wall_s == pytest.approx(5.0)
    # without the limit the two overlap: the limit, not the worker count, decided
    free = replay_record(replace(recorded, pool=PoolRecord(usable_cpus=4.0)))
    assert free.wall_s == pytest.approx(3.0)


def test_each_stage_keeps_its_start_latency_up_to_a_second() -> None:
    # unit started 0.6 s after lint ended (a loaded machine); d started 4 s after anything
    # ended, which no latency explains: it keeps a second, and the replay leaves it early.
    recorded = record(
        stage("lint", 0.5, start_offset_s=0.01, expected_s=0.5),
        stage("unit", 1.6, start_offset_s=1.1, needs=("lint",), expected_s=1.6),
        stage("d", 1.0, start_offset_s=6.7, worker="w2"),
        workers=2,
        strategy="process",
        pool=PoolRecord(usable_cpus=2.0, total_duration_s=7.7),
    )
    placed = replay_record(recorded).placements
    assert placed["lint"].start_s == pytest.approx(0.01)
    assert placed["unit"].start_s == pytest.approx(1.1)
    assert placed["d"].start_s == pytest.approx(1.0)
    halved = replay_record(recorded).placements_if(WhatIf(stage="lint", factor=0.5))
    assert halved["unit"].start_s == pytest.approx(0.01 + 0.25 + 0.59)  # lint ended at 0.51
