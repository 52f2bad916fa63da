"""The shard planner on hand-made durations: balance, determinism, needs kept together."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.errors import UsageError
from orchestrator.model.shardplan import Work, matrix, parse_shard, plan_shards, shard_in

durations = st.lists(st.floats(min_value=0.5, max_value=300), min_size=1, max_size=20)


@given(durations, st.integers(min_value=1, max_value=6))
def test_every_stage_lands_in_exactly_one_shard_and_the_greedy_bound_holds(
    seconds: list[float], total: int
) -> None:
    works = [Work(f"s{i}", d) for i, d in enumerate(seconds)]
    shards = plan_shards(works, total)
    assert [s.label for s in shards] == [f"{i}/{total}" for i in range(1, total + 1)]
    placed = [name for shard in shards for name in shard.stages]
    assert sorted(placed) == sorted(w.name for w in works)
    # Each stage goes onto the least loaded shard, whose load is at most the mean, so the
    # largest shard exceeds the mean load by less than one (the longest) stage.
    bound = sum(seconds) / total + (1 - 1 / total) * max(seconds)
    assert max(s.predicted_s for s in shards) <= bound + 1e-2
    assert plan_shards(works, total) == shards  # the same input gives the same plan


def test_stages_joined_by_needs_share_a_shard_and_unknown_ones_weigh_the_median() -> None:
    works = [
        Work("lint", 10.0),
        Work("unit", 40.0),
        Work("integration", 30.0, needs=("unit",)),
        Work("security", None),
        Work("types", 20.0),
    ]
    shards = plan_shards(works, 2)
    assert shards[0].stages == ("unit", "integration")
    assert shards[0].predicted_s == 70.0
    # lint 10 + types 20 + security at the median of 10, 20, 30, 40 (25)
    assert shards[1].stages == ("lint", "security", "types")
    assert shards[1].predicted_s == 55.0


def test_four_equal_stages_on_two_shards_are_even_and_extra_shards_are_empty() -> None:
    works = [Work(f"s{i}", 5.0) for i in range(4)]
    assert [s.predicted_s for s in plan_shards(works, 2)] == [10.0, 10.0]
    shards = plan_shards(works[:1], 3)
    assert [s.stages for s in shards] == [("s0",), (), ()]


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/", "-1/2", ""])
def test_a_bad_shard_is_a_usage_error_naming_the_option(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--shard: expected \"K/N\""):
        parse_shard(text)


def test_parse_shard_and_the_matrix_round_trip() -> None:
    assert parse_shard("2/3") == (2, 3)
    shards = plan_shards([Work("a", 3.0), Work("b", 2.0), Work("c", 1.0)], 2)
    data = matrix(shards, "heavy")
    assert data["include"][0] == {
        "shard": "1/2",
        "lane": "heavy",
        "stages": ["a"],
        "predicted_s": 3.0,
    }
    assert shard_in(data, "2/2", "plan.json")[:2] == ("heavy", ("b", "c"))
    with pytest.raises(UsageError, match=r"^plan.json: no shard 3/3"):
        shard_in(data, "3/3", "plan.json")
    with pytest.raises(UsageError, match=r"^plan.json: not a shard plan"):
        shard_in([1, 2], "1/2", "plan.json")


def test_on_two_cores_a_shard_is_predicted_at_its_longest_stage_or_its_work_over_two() -> None:
    works = [Work("pylint", 18.0), Work("pytest", 11.0), Work("mypy", 4.0), Work("flake8", 3.0)]
    shards = plan_shards(works, 2, parallel=2.0)
    # pylint alone sets 18 s; the rest (18 s of work) fit beside each other in 11 s
    assert [s.stages for s in shards] == [("pylint",), ("pytest", "mypy", "flake8")]
    assert [s.predicted_s for s in shards] == [18.0, 11.0]
    # with one core per runner the same stages are balanced by their sums
    assert [s.predicted_s for s in plan_shards(works, 2)] == [18.0, 18.0]
