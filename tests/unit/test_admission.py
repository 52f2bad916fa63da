"""The scheduler's policy on hand-built specs: no process is started here."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.scheduling.admission import (
    NICE_OFF_PATH,
    Capacity,
    Started,
    admit,
    blocked,
    free_slot,
    niceness,
    priority,
    ready,
)
from orchestrator.engine.spec import StageSpec
from orchestrator.model.strategies import is_cpu_bound

demands = st.sampled_from([0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0])
expected = st.one_of(st.none(), st.floats(min_value=0.1, max_value=600))


@st.composite
def specs(draw: st.DrawFn, prefix: str = "s", serial: bool = True) -> list[StageSpec]:
    count = draw(st.integers(min_value=0, max_value=7))
    return [
        StageSpec(
            name=f"{prefix}{i}",
            number=i,
            kind=draw(st.sampled_from(["cpu", "io", None])),
            cpu_demand=draw(demands),
            expected_s=draw(expected),
            serial=draw(st.booleans()) if serial else False,
        )
        for i in range(count)
    ]


capacities = st.builds(
    Capacity,
    workers=st.integers(min_value=1, max_value=6),
    cores=st.sampled_from([1.0, 1.5, 2.0, 4.0]),
    budget_cores=st.booleans(),
)


def is_subsequence(part: list[StageSpec], whole: list[StageSpec]) -> bool:
    remaining = iter(whole)
    return all(any(item is other for other in remaining) for item in part)


@given(specs("r"), specs("a"), capacities)
def test_admission_fills_free_workers_in_order_and_never_more(
    ready_specs: list[StageSpec], running: list[StageSpec], capacity: Capacity
) -> None:
    chosen = admit(ready_specs, running, capacity)
    assert is_subsequence(chosen, ready_specs)
    assert len(running) + len(chosen) <= max(capacity.workers, len(running))
    if len(running) >= capacity.workers or any(s.serial for s in running):
        assert chosen == []


@given(specs("r"), specs("a"), capacities)
def test_a_serial_stage_runs_alone(
    ready_specs: list[StageSpec], running: list[StageSpec], capacity: Capacity
) -> None:
    chosen = admit(ready_specs, running, capacity)
    if any(s.serial for s in chosen):
        assert len(chosen) == 1
        assert running == []
    # nothing behind a waiting serial stage jumps the queue
    first_serial = next((i for i, s in enumerate(ready_specs) if s.serial), None)
    if first_serial is not None:
        assert all(ready_specs.index(s) <= first_serial for s in chosen)


@given(specs("r", serial=False), st.integers(min_value=1, max_value=6))
def test_without_a_core_budget_the_first_ready_stages_start(
    ready_specs: list[StageSpec], workers: int
) -> None:
    chosen = admit(ready_specs, [], Capacity(workers, 2.0, budget_cores=False))
    assert chosen == ready_specs[:workers]


@given(specs("r", serial=False), specs("a", serial=False), st.sampled_from([1.0, 2.0, 4.0]))
def test_the_core_budget_holds_back_only_cpu_bound_stages(
    ready_specs: list[StageSpec], running: list[StageSpec], cores: float
) -> None:
    chosen = admit(ready_specs, running, Capacity(20, cores, budget_cores=True))
    io_bound = [s for s in ready_specs if not is_cpu_bound(s.demand)]
    assert all(any(s is c for c in chosen) for s in io_bound)
    used = sum(s.demand for s in running if is_cpu_bound(s.demand))
    for spec in chosen:
        if is_cpu_bound(spec.demand):
            # the first CPU-bound stage always starts; later ones only into a free core
            assert used == 0 or used + min(spec.demand, 1.0) <= cores + 1e-6
            used += spec.demand


def test_the_budget_admits_two_single_core_stages_on_two_cores_and_then_waits() -> None:
    cpu = [StageSpec(f"c{i}", i, kind="cpu") for i in range(4)]
    io = StageSpec("io", 9, kind="io")
    chosen = admit([*cpu, io], [], Capacity(8, 2.0, budget_cores=True))
    assert [s.name for s in chosen] == ["c0", "c1", "io"]
    # a stage using several cores still starts when one whole core is free
    wide = StageSpec("wide", 1, cpu_demand=2.0)
    assert admit([wide], [cpu[0]], Capacity(8, 2.0, budget_cores=True)) == [wide]
    assert admit([wide], cpu[:2], Capacity(8, 2.0, budget_cores=True)) == []


@given(
    st.floats(min_value=0.1, max_value=300),
    st.floats(min_value=0.1, max_value=300),
    st.floats(min_value=0, max_value=100),
)
def test_niceness_goes_to_cpu_stages_that_end_well_before_the_longest(
    mine: float, theirs: float, elapsed: float
) -> None:
    now = 1000.0
    other = Started(StageSpec("long", 1, kind="cpu", expected_s=theirs), at=now - elapsed)
    spec = StageSpec("short", 2, kind="cpu", expected_s=mine)
    nice = niceness(spec, [other], now, adaptive=True)
    horizon = other.at + theirs
    assert nice in (0, NICE_OFF_PATH)
    assert (nice == NICE_OFF_PATH) == (now + mine <= horizon - 0.1 * (horizon - now))
    shorter = StageSpec("shorter", 3, kind="cpu", expected_s=mine / 2)
    if nice:
        assert niceness(shorter, [other], now, adaptive=True) == NICE_OFF_PATH
    assert niceness(spec, [other], now, adaptive=False) == 0
    assert niceness(spec, [], now, adaptive=True) == 0
    io = StageSpec("io", 4, kind="io", expected_s=mine)
    assert niceness(io, [other], now, adaptive=True) == 0
    unknown = StageSpec("new", 5, kind="cpu")
    assert niceness(unknown, [other], now, adaptive=True) == 0


@given(specs("p"))
def test_priority_starts_the_longest_expected_first_then_cpu_then_number(
    stages: list[StageSpec],
) -> None:
    ordered = sorted(stages, key=priority)
    for first, second in itertools.pairwise(ordered):
        a, b = first.expected_s or 0.0, second.expected_s or 0.0
        assert a >= b
        if a == b and (first.kind == "cpu") != (second.kind == "cpu"):
            assert first.kind == "cpu"


def test_ready_waits_for_known_needs_only_and_sorts_by_priority() -> None:
    pending = [
        StageSpec("unit", 4, needs=("lint",), expected_s=10),
        StageSpec("docs", 5, needs=("elsewhere",)),
        StageSpec("types", 3, expected_s=60),
    ]
    names = [s.name for s in ready(pending, set(), {"unit", "docs", "types", "lint"})]
    assert names == ["types", "docs"]
    names = [s.name for s in ready(pending, {"lint"}, {"unit", "docs", "types", "lint"})]
    assert names == ["types", "unit", "docs"]


def test_a_failed_need_skips_the_whole_chain_in_one_pass() -> None:
    pending = [
        StageSpec("unit", 3, needs=("lint",)),
        StageSpec("deploy", 4, needs=("unit",)),
        StageSpec("free", 5),
    ]
    found = blocked(pending, {"lint"})
    assert [(s.name, reason) for s, reason in found] == [
        ("unit", "needs lint, which did not pass"),
        ("deploy", "needs unit, which did not pass"),
    ]


@given(st.sets(st.integers(min_value=1, max_value=8)))
def test_the_free_slot_is_the_lowest_untaken(taken: set[int]) -> None:
    slot = free_slot(taken)
    assert slot not in taken
    assert all(i in taken for i in range(1, slot))
