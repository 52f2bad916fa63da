"""The split plan (test files onto parts), the `auto` part count, and the plugin's choice
of part for every collected test: plain functions, tested directly and with hypothesis."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.pytest.plugins.workflow_split import _read, assign_parts
from orchestrator.engine.split import INLINE_MAX, _handed
from orchestrator.model.splitplan import (
    MIN_TEST_S,
    SplitPlan,
    auto_parts,
    file_weights,
    part_capacities,
    plan_split,
)
from orchestrator.model.splitplan import (
    test_file as file_of,
)

files = st.sampled_from([f"tests/test_{name}.py" for name in "abcdefghij"])
test_ids = st.builds(lambda f, n: f"{f}::test_{n}", files, st.integers(0, 30))
durations = st.dictionaries(test_ids, st.floats(0, 100, allow_nan=False), max_size=60)


def test_files_are_balanced_longest_first() -> None:
    tests = {
        "tests/test_a.py::test_1": 6.0,
        "tests/test_a.py::test_2": 4.0,  # file a: 10 s
        "tests/test_b.py::test_1": 7.0,
        "tests/test_c.py::test_1": 3.0,
        "tests/test_d.py::test_1": 2.0,
    }
    plan = plan_split(tests, 2, overhead_s=0.5)
    assert plan.files == {
        "tests/test_a.py": 0,
        "tests/test_b.py": 1,
        "tests/test_c.py": 1,
        "tests/test_d.py": 0,  # a tie (10 s each) goes to the first part
    }
    assert plan.loads_s == (12.0, 10.0)
    assert plan.predicted_s(0) == 12.5
    assert plan.label(1) == "2/2"


@given(durations, st.integers(1, 6))
def test_every_known_test_is_placed_once_and_no_part_exceeds_the_lpt_bound(
    tests: dict[str, float], parts: int
) -> None:
    plan = plan_split(tests, parts)
    for test in tests:
        # By its file, or (a file too heavy for one part) by its own id: never both.
        assert (file_of(test) in plan.files) != (test in plan.tests)
    assert all(0 <= part < parts for part in (*plan.files.values(), *plan.tests.values()))
    weights, _ = file_weights(tests)
    units = [weights[f] for f in plan.files] + [max(MIN_TEST_S, tests[t]) for t in plan.tests]
    # Greedy least-loaded placement: no part ends above the mean plus the largest unit.
    mean = sum(weights.values()) / parts
    assert max(plan.loads_s) <= mean + max(units, default=0.0) + 1e-3
    assert plan_split(dict(reversed(list(tests.items()))), parts) == plan
    assert SplitPlan.from_data(plan.to_data()) == plan


def test_parts_are_shaped_so_that_the_cores_end_together() -> None:
    # networkx's lane on 2 cores: 50 s of tests, 2.5 s a process, lint stages of 7.5,
    # 3.8, 3.2 and 2.5 s. pylint falls on one core (7.5 s), flake8, bandit and mypy on the
    # other (9.5 s): the second core's part is 2 s shorter, and both end at 36 s.
    capacities = part_capacities(2, 50.0, 2.5, [3.8, 7.5, 3.2, 2.5], cores=2)
    assert capacities == pytest.approx((26.0, 24.0))
    assert part_capacities(3, 50.0, 2.5, [7.5], cores=2) is None  # not one part per core
    assert part_capacities(2, 50.0, 2.5, [], cores=2) is None  # nothing else to fit
    assert part_capacities(2, 4.0, 0.5, [30.0], cores=2) is None  # lint outlasts a part
    tests = {f"tests/test_{i}.py::test_x": 1.0 for i in range(50)}
    plan = plan_split(tests, 2, 2.5, capacities)
    assert plan.loads_s == (26.0, 24.0)  # whole files of 1 s fill each part's room


@given(
    st.integers(2, 6),
    st.floats(1, 500),
    st.floats(0, 10),
    st.lists(st.floats(0, 60), min_size=1, max_size=8),
)
def test_shaped_parts_hold_every_test_second_and_end_their_cores_together(
    parts: int, tests_s: float, overhead_s: float, others: list[float]
) -> None:
    capacities = part_capacities(parts, tests_s, overhead_s, others, parts)
    if capacities is None:
        return
    assert sum(capacities) == pytest.approx(tests_s)
    # Each core: its part, its overhead and the others the pool gives it, longest first.
    loads = [0.0] * parts
    for seconds in sorted(others, reverse=True):
        loads[loads.index(min(loads))] += seconds
    ends = [c + overhead_s + load for c, load in zip(capacities, loads, strict=True)]
    assert max(ends) == pytest.approx(min(ends))


@given(durations, st.lists(st.floats(0.1, 50), min_size=2, max_size=5))
def test_every_known_test_is_placed_once_in_shaped_parts(
    tests: dict[str, float], capacities: list[float]
) -> None:
    plan = plan_split(tests, len(capacities), 0.0, capacities)
    for test in tests:
        assert (file_of(test) in plan.files) != (test in plan.tests)
    assert sum(plan.loads_s) == pytest.approx(sum(file_weights(tests)[0].values()), abs=1e-3)
    with pytest.raises(ValueError, match="positive capacities"):
        plan_split(tests, len(capacities) + 1, 0.0, capacities)


def test_a_file_heavier_than_a_part_is_cut_into_its_tests() -> None:
    tests = {f"tests/test_big.py::test_{i}": 10.0 for i in range(4)}
    tests["tests/test_small.py::test_x"] = 5.0
    plan = plan_split(tests, 3)  # 45 s: 15 s a part; the 40 s file cannot stay whole
    assert plan.files == {"tests/test_small.py": 1}
    assert [plan.tests[f"tests/test_big.py::test_{i}"] for i in range(4)] == [0, 1, 2, 0]
    assert plan.loads_s == (20.0, 15.0, 10.0)
    ids = [*tests, "tests/test_big.py::test_new"]
    chosen = assign_parts(ids, plan.to_data())
    assert [chosen[test] for test in ids[:5]] == [0, 1, 2, 0, 1]
    assert chosen[ids[5]] == 2  # a new test of the cut file: placed like an unknown file


def test_unknown_tests_weigh_the_median_and_never_nothing() -> None:
    _, median = file_weights({"a.py::x": 0.0, "a.py::y": 0.0, "b.py::z": 3.0})
    assert median == MIN_TEST_S
    assert file_weights({})[1] == 1.0
    assert file_of("tests/test_a.py::TestX::test_b[1-2]") == "tests/test_a.py"


def test_auto_splits_the_stage_that_outweighs_the_rest() -> None:
    # 60 s of tests beside 20 s of other work on 2 cores: two parts (30.5 s) beat one.
    assert auto_parts(60.5, 0.5, 20.0, 2) == 2
    # A short stage beside long ones: cutting it cannot shorten the run.
    assert auto_parts(5.0, 0.5, 100.0, 2) == 1
    # One core: never more parts than cores.
    assert auto_parts(100.0, 0.5, 0.0, 1) == 1
    # Collection dearer than the tests: one part.
    assert auto_parts(3.0, 2.9, 0.0, 4) == 1


@given(
    st.floats(0, 1000, allow_nan=False),
    st.floats(0, 10, allow_nan=False),
    st.floats(0, 1000, allow_nan=False),
    st.integers(1, 16),
)
def test_auto_never_makes_the_bound_worse(
    stage_s: float, overhead_s: float, others_s: float, cores: int
) -> None:
    parts = auto_parts(stage_s, overhead_s, others_s, cores)
    assert 1 <= parts <= cores

    def bound(n: int) -> float:
        tests = max(0.0, stage_s - overhead_s)
        return max(tests / n + overhead_s, (stage_s + (n - 1) * overhead_s + others_s) / cores)

    assert bound(parts) <= bound(1) + 1e-9


def _plan_data(tests: dict[str, float], parts: int) -> dict[str, object]:
    return plan_split(tests, parts).to_data()


@given(
    st.lists(st.tuples(test_ids, st.sampled_from([None, "db", "net"])), max_size=40),
    durations,
    st.integers(1, 5),
    st.randoms(use_true_random=False),
)
def test_every_collected_test_runs_in_exactly_one_part_whatever_the_order(
    items: list[tuple[str, str | None]],
    tests: dict[str, float],
    parts: int,
    shuffler: random.Random,
) -> None:
    data = _plan_data(tests, parts)
    groups = {test: group for test, group in items if group is not None}
    ids = [test for test, _ in items]
    chosen = assign_parts(ids, data, groups)
    assert set(chosen) == set(ids)
    assert all(0 <= part < parts for part in chosen.values())
    # Every part decides the same by id, whatever order its process collected in (what
    # pytest-randomly does to each part alike, with a seed of its own).
    shuffled = list(ids)
    shuffler.shuffle(shuffled)
    assert assign_parts(shuffled, data, groups) == chosen
    # Tests of one xdist_group share a part; so do the ungrouped tests of one file.
    by_group: dict[str, set[int]] = {}
    by_file: dict[str, set[int]] = {}
    for test in ids:
        if test in groups:
            by_group.setdefault(groups[test], set()).add(chosen[test])
        elif test not in data["tests"]:  # type: ignore[operator]
            by_file.setdefault(file_of(test), set()).add(chosen[test])
    assert all(len(found) == 1 for found in by_group.values())
    assert all(len(found) == 1 for found in by_file.values())


def test_new_files_spread_over_the_parts_by_their_test_counts() -> None:
    data = _plan_data({"tests/test_old.py::test_a": 1.0}, 2)
    ids = [f"tests/test_new.py::test_{i}" for i in range(3)]
    ids += [f"tests/test_newer.py::test_{i}" for i in range(2)]
    ids += ["tests/test_old.py::test_a"]
    chosen = assign_parts(ids, data)
    # test_old.py holds part 0; the three-test new file goes to the empty part 1, then the
    # two-test file to the lighter part.
    assert [chosen[test] for test in ids] == [1, 1, 1, 0, 0, 0]


def test_a_part_is_handed_its_plan_inline_or_in_a_file(tmp_path: Path) -> None:
    plan = plan_split({"tests/test_a.py::test_x": 1.0}, 2)
    text = json.dumps({"part": 1, "plan": plan.to_data()})
    assert _handed(text, tmp_path / "p.json") == text  # small: in the environment
    assert _read(text) == (1, plan.to_data(), None)
    big = json.dumps({"part": 0, "plan": plan.to_data(), "pad": "x" * INLINE_MAX})
    handed = _handed(big, tmp_path / "p.json")
    assert handed == str(tmp_path / "p.json")
    assert _read(handed)[0] == 0
    with pytest.raises(pytest.UsageError, match="not a split part"):
        _read(str(tmp_path / "missing.json"))
