"""The plan's split stages (from per-test history) and their parts on shards: pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.configfile.load import LoadedConfig, load_config
from orchestrator.engine.scheduling.sizing import Machine
from orchestrator.history.profiles import StageProfile
from orchestrator.model.config import Lane
from orchestrator.model.errors import UsageError
from orchestrator.model.shardplan import plan_shards
from orchestrator.pipeline.plan import Plan, PlanOptions, build_plan
from orchestrator.pipeline.shards import shard_works
from orchestrator.pipeline.splits import shard_parts, split_stages

MACHINE = Machine(affinity_cpus=2, quota_cpus=None, memory_available=8 * 2**30, memory_total=2**34)
CONFIG = """
[stages.lint]
run = "ruff check ."
[stages.integration]
run = "pytest tests/integration"
split = "{split}"
[lanes.heavy]
workers = 2
"""
# 60 s of tests in six files of 10 s; lint 20 s of one core.
TESTS = {f"tests/integration/test_{i}.py::test_x": 10.0 for i in range(6)}
PROFILES = {
    "lint": StageProfile(duration_s=20.0, cpu_percent=100.0),
    "integration": StageProfile(duration_s=61.0, cpu_percent=100.0),
}


def planned(  # noqa: PLR0913 - a plan builder: keyword-only history with defaults
    tmp_path: Path,
    split: str,
    tests: dict[str, float] | None = None,
    runners: int = 1,
    *,
    profiles: dict[str, StageProfile] | None = None,
    overheads: dict[str, float] | None = None,
) -> Plan:
    text = CONFIG.replace('"{split}"', split)
    (tmp_path / "workflow.toml").write_text(text)
    config: LoadedConfig = load_config(tmp_path / "workflow.toml")
    plan = build_plan(config, PlanOptions(lane=Lane.HEAVY), MACHINE, profiles or PROFILES)
    durations = {"integration": TESTS if tests is None else tests}
    return split_stages(plan, durations, runners, overheads)


def test_a_measured_process_overhead_wins_over_a_split_runs_wall_time(tmp_path: Path) -> None:
    # After a split run the stage's expected wall time (31 s, its longest part) is less than
    # its tests' 60 s: the wall time says nothing of one process's overhead, the measured
    # overhead (3 s a process) does.
    after_split = {**PROFILES, "integration": StageProfile(duration_s=31.0, cpu_percent=100.0)}
    guessed = planned(tmp_path, "2", profiles=after_split).stage("integration").split
    assert guessed is not None
    assert guessed.overhead_s == 0.5  # the floor: 31 s of wall minus 60 s of tests is nothing
    measured = planned(tmp_path, "2", profiles=after_split, overheads={"integration": 3.0})
    split = measured.stage("integration").split
    assert split is not None
    assert split.overhead_s == 3.0
    assert [split.predicted_s(0), split.predicted_s(1)] == [23.0, 43.0]


def test_auto_splits_the_stage_longer_than_the_work_per_core(tmp_path: Path) -> None:
    plan = planned(tmp_path, '"auto"')
    stage = plan.stage("integration")
    assert stage.split is not None
    assert stage.split.parts == 2
    # One part per core, then lint's 20 s on whichever core frees first: the part on that
    # core is the shorter, so both cores end at 41 s (equal parts would end at 31 and 51).
    assert stage.split.loads_s == (20.0, 40.0)
    assert stage.split.overhead_s == 1.0  # 61 s of wall for 60 s of tests
    assert stage.expected_s == 41.0  # the longest part: what the start order sees
    assert stage.cpu_demand == 2.0  # admitted for a core per part
    assert [s.name for s in plan.stages] == ["integration", "lint"]
    assert "integration split into 2 parts by test file (6 known tests)" in plan.notes


def test_stages_the_split_stage_needs_do_not_shape_its_parts(tmp_path: Path) -> None:
    # lint runs before the parts start: nothing comes after them, so they stay equal.
    config = CONFIG.replace('split = "{split}"', 'split = "{split}"\nneeds = ["lint"]')
    (tmp_path / "workflow.toml").write_text(config.replace('"{split}"', "2"))
    plan = build_plan(
        load_config(tmp_path / "workflow.toml"), PlanOptions(lane=Lane.HEAVY), MACHINE, PROFILES
    )
    split = split_stages(plan, {"integration": TESTS}).stage("integration").split
    assert split is not None
    assert split.loads_s == (30.0, 30.0)


def test_auto_without_known_tests_runs_whole_and_says_why(tmp_path: Path) -> None:
    plan = planned(tmp_path, '"auto"', tests={})
    assert plan.stage("integration").split is None
    assert "integration runs whole: no test durations in the history yet" in plan.notes


def test_a_number_of_parts_splits_even_without_history(tmp_path: Path) -> None:
    plan = planned(tmp_path, "3", tests={})
    split = plan.stage("integration").split
    assert split is not None
    assert (split.parts, dict(split.files)) == (3, {})


def test_parts_are_placed_on_shards_one_by_one(tmp_path: Path) -> None:
    plan = planned(tmp_path, "3")
    works = shard_works(sorted(plan.stages, key=lambda s: s.number))
    assert [w.name for w in works] == [
        "lint",
        "integration[1/3]",
        "integration[2/3]",
        "integration[3/3]",
    ]
    shards = plan_shards(works, 2)
    sizes = [shard.predicted_s for shard in shards]
    assert max(sizes) / min(sizes) <= 1.10  # 20 s + 21 s beside 21 s + 21 s


def test_a_shard_runs_only_its_parts_of_the_plan_file(tmp_path: Path) -> None:
    plan = planned(tmp_path, "3")
    fixed = plan.stage("integration").split
    assert fixed is not None
    shard = shard_parts(plan, {"integration": [2, 0]}, {"integration": fixed})
    stage = shard.stage("integration")
    assert stage.parts_here == (0, 2)
    assert stage.cpu_demand == 2.0
    with pytest.raises(UsageError, match="has 3 parts"):
        shard_parts(plan, {"integration": [3]}, {})
    with pytest.raises(UsageError, match="does not split"):
        shard_parts(planned(tmp_path, "1"), {"integration": [0]}, {})


def test_auto_cuts_for_the_cores_of_every_runner_of_a_shard_plan(tmp_path: Path) -> None:
    # Three runners of two cores: 81 s of work spread over six cores is 13.5 s; five
    # parts (13 s each, 14.2 s of work per core) come closest, a sixth gains less than
    # the 1 s it costs.
    split = planned(tmp_path, '"auto"', runners=3).stage("integration").split
    assert split is not None
    assert split.parts == 5
