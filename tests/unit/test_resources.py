"""Shared resources in the pure admission policy: never more holders than the limit.

Schedules are simulated on hand-built specs (no process starts): admission is asked
again after every stage that ends, as the pool does, and every state is checked.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.scheduling.admission import (
    EVERYTHING,
    Capacity,
    admit,
    fits_resources,
    holds,
)
from orchestrator.engine.spec import StageSpec

RESOURCES = ["db", "port", "gpu"]


@st.composite
def stage_sets(draw: st.DrawFn) -> list[StageSpec]:
    count = draw(st.integers(min_value=1, max_value=8))
    return [
        StageSpec(
            name=f"s{i}",
            number=i,
            kind=draw(st.sampled_from(["cpu", "io"])),
            serial=draw(st.integers(min_value=0, max_value=5)) == 0,
            uses=tuple(draw(st.lists(st.sampled_from(RESOURCES), unique=True, max_size=2))),
        )
        for i in range(count)
    ]


limits_strategy = st.dictionaries(
    st.sampled_from(RESOURCES), st.integers(min_value=1, max_value=3), min_size=1
)


def holders(running: list[StageSpec], name: str) -> int:
    return sum(name in holds(spec) for spec in running)


@given(
    stage_sets(),
    limits_strategy,
    st.integers(min_value=1, max_value=6),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_a_schedule_never_has_more_holders_than_the_limit_and_runs_every_stage(
    stages: list[StageSpec], limits: dict[str, int], workers: int, budget: bool, rng: random.Random
) -> None:
    capacity = Capacity(workers, 2.0, budget, limits)
    pending = list(stages)
    running: list[StageSpec] = []
    done: list[StageSpec] = []
    for _ in range(4 * len(stages)):
        started = admit(pending, running, capacity)
        for spec in started:
            pending.remove(spec)
        running.extend(started)
        for name, limit in limits.items():
            assert holders(running, name) <= limit
        if any(s.serial for s in running):
            assert len(running) == 1
        assert len(running) <= workers
        if not running:
            break
        # any running stage may be the next to end
        finished = running.pop(rng.randrange(len(running)))
        done.append(finished)
    assert pending == [] and running == []  # nothing starves: a limit is at least 1
    assert sorted(s.name for s in done) == sorted(s.name for s in stages)


def test_two_stages_on_a_database_limited_to_one_take_turns_and_others_pass_by() -> None:
    first = StageSpec("migrate", 1, uses=("db",))
    second = StageSpec("integration", 2, uses=("db",))
    free = StageSpec("lint", 3)
    capacity = Capacity(4, 4.0, budget_cores=False, limits={"db": 1})
    assert admit([first, second, free], [], capacity) == [first, free]
    assert admit([second], [first, free], capacity) == []
    assert admit([second], [free], capacity) == [second]
    # a limit of 2 lets both in
    two = capacity._replace(limits={"db": 2})
    assert admit([first, second], [], two) == [first, second]


def test_serial_is_the_resource_everything_with_a_limit_of_one() -> None:
    serial = StageSpec("writer", 1, serial=True)
    other = StageSpec("other", 2, uses=("db",))
    assert holds(serial) == frozenset({EVERYTHING})
    assert fits_resources(serial, [], {})
    assert not fits_resources(serial, [other], {})
    assert not fits_resources(other, [serial], {})
    # a resource without a limit (a library caller's spec) never blocks
    assert fits_resources(other, [StageSpec("x", 3, uses=("db",))], {})
