"""Planning, sizing and pool metrics: pure functions over typed data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.configfile.load import LoadedConfig, load_config
from orchestrator.engine.scheduling.metrics import pool_metrics
from orchestrator.engine.scheduling.sizing import Machine, StageDemand, parse_cpu_max, size_pool
from orchestrator.history.profiles import StageProfile
from orchestrator.model.config import Lane, Strategy
from orchestrator.model.errors import UnknownStageError
from orchestrator.model.records import StageRecord, StageStatus
from orchestrator.pipeline.plan import PlanOptions, build_plan

MACHINE = Machine(affinity_cpus=2, quota_cpus=None, memory_available=8 * 2**30, memory_total=2**34)


def loaded(tmp_path: Path, text: str) -> LoadedConfig:
    (tmp_path / "workflow.toml").write_text(text)
    return load_config(tmp_path / "workflow.toml")


CONFIG = """
[stages.lint]
run = "ruff check ."
[stages.types]
run = "mypy ."
[stages.unit]
run = "pytest"
needs = ["lint"]
[lanes.docs]
stages = ["lint"]
[lanes.heavy]
sla = { unit = 90 }
[sla]
critical = ["unit"]
"""


def test_history_orders_the_start_longest_first(tmp_path: Path) -> None:
    profiles = {
        "lint": StageProfile(duration_s=2, cpu_percent=90),
        "types": StageProfile(duration_s=40, cpu_percent=95),
        "unit": StageProfile(duration_s=60, cpu_percent=20),
    }
    plan = build_plan(loaded(tmp_path, CONFIG), PlanOptions(lane=Lane.HEAVY), MACHINE, profiles)
    assert [s.name for s in plan.stages] == ["types", "lint", "unit"]
    unit = plan.stage("unit")
    assert (unit.kind, unit.kind_source, unit.target_s, unit.critical) == (
        "io",
        "history",
        90,
        True,
    )
    assert plan.stage("types").kind == "cpu"


def test_lane_selects_stages_and_only_overrides(tmp_path: Path) -> None:
    config = loaded(tmp_path, CONFIG)
    docs = build_plan(config, PlanOptions(lane=Lane.DOCS), MACHINE)
    assert [s.name for s in docs.stages] == ["lint"]
    assert docs.strategy is Strategy.THREAD
    assert docs.fail_fast is True
    only = build_plan(config, PlanOptions(lane=Lane.DOCS, only=("types",)), MACHINE)
    assert [s.name for s in only.stages] == ["types"]
    assert "--only" in only.notes[0]
    with pytest.raises(UnknownStageError, match=r"^no stage named 'nope'"):
        build_plan(config, PlanOptions(only=("nope",)), MACHINE)


def test_needs_outside_only_are_pulled_in_with_the_reason(tmp_path: Path) -> None:
    config = loaded(tmp_path, CONFIG)
    only = build_plan(config, PlanOptions(lane=Lane.DOCS, only=("unit",)), MACHINE)
    assert sorted(s.name for s in only.stages) == ["lint", "unit"]
    assert only.stage("unit").needs == ("lint",)
    assert "lint added: unit needs it" in only.notes


def test_needs_outside_the_lane_are_pulled_in_transitively(tmp_path: Path) -> None:
    text = (
        "[stages.a]\nrun = 'true'\n[stages.b]\nrun = 'true'\nneeds = ['a']\n"
        "[stages.c]\nrun = 'true'\nneeds = ['b']\n[stages.d]\nrun = 'true'\n"
        "[lanes.docs]\nstages = ['c']\n"
    )
    plan = build_plan(loaded(tmp_path, text), PlanOptions(lane=Lane.DOCS), MACHINE)
    assert sorted(s.name for s in plan.stages) == ["a", "b", "c"]
    assert plan.notes == ("b added: c needs it", "a added: b needs it")
    assert plan.stage("b").needs == ("a",)


def test_cli_overrides_win_over_the_lane(tmp_path: Path) -> None:
    plan = build_plan(
        loaded(tmp_path, CONFIG),
        PlanOptions(lane=Lane.DOCS, strategy=Strategy.PROCESS, workers=5, fail_fast=False),
        MACHINE,
    )
    assert (plan.strategy, plan.workers, plan.fail_fast) == (Strategy.PROCESS, 5, False)


def test_cpu_max_parsing() -> None:
    assert parse_cpu_max("max 100000\n") is None
    assert parse_cpu_max("150000 100000") == 1.5
    quota = Machine(affinity_cpus=8, quota_cpus=1.5, memory_available=2**30, memory_total=2**30)
    assert quota.usable_cpus == 1.5


def test_auto_sizing_explains_itself() -> None:
    demands = [StageDemand("a", True), StageDemand("b", True), StageDemand("c", False)]
    workers, reason = size_pool(Strategy.ADAPTIVE, "auto", demands, MACHINE)
    assert workers == 3
    assert "2 usable cores" in reason
    assert "2 CPU-bound, 1 I/O-bound" in reason
    assert size_pool(Strategy.SEQUENTIAL, 8, demands, MACHINE)[0] == 1
    low_memory = Machine(2, None, memory_available=2**30, memory_total=2**30)
    workers, reason = size_pool(Strategy.ADAPTIVE, "auto", demands, low_memory)
    assert workers == 2
    assert "limited by memory" in reason


@given(
    st.lists(st.booleans(), min_size=1, max_size=12),
    st.integers(1, 64),
    st.floats(0.5, 64),
)
def test_auto_workers_stay_within_stages(cpu_flags: list[bool], cores: int, quota: float) -> None:
    machine = Machine(cores, quota, memory_available=2**36, memory_total=2**36)
    demands = [StageDemand(str(i), flag) for i, flag in enumerate(cpu_flags)]
    workers, _ = size_pool(Strategy.ADAPTIVE, "auto", demands, machine)
    assert 1 <= workers <= len(demands)


def stage(name: str, start: float, duration: float, needs: tuple[str, ...] = ()) -> StageRecord:
    return StageRecord(
        number=2,
        name=name,
        status=StageStatus.PASSED,
        attempts=1,
        start_offset_s=start,
        duration_s=duration,
        needs=needs,
    )


def test_pool_metrics() -> None:
    stages = [stage("a", 0, 2), stage("b", 0, 4)]
    metrics = pool_metrics(
        stages, workers=2, started_at=10.0, finished_at=14.0, sizing_reason="r", usable_cpus=2
    )
    assert metrics.total_duration_s == 4
    assert metrics.worker_utilization_percent == 75.0
    assert metrics.avg_task_s == 3
    assert metrics.max_task_s == 4
    assert metrics.throughput_tasks_per_s == 0.5
    assert (metrics.completed, metrics.total) == (2, 2)


def test_the_pools_figures_leave_the_critical_path_to_the_replay() -> None:
    # One algorithm decides the path (engine/scheduling/replay.py, when the record is finished):
    # the live figures never carry a second opinion that the final record would contradict.
    stages = [
        replace(stage("a", 0, 2), worker="thread-1"),
        replace(stage("b", 2, 4), worker="thread-1"),
    ]
    metrics = pool_metrics(
        stages, workers=1, started_at=0.0, finished_at=6.0, sizing_reason="r", usable_cpus=1
    )
    assert metrics.critical_path == ()


@pytest.mark.parametrize(
    ("lanes", "options", "chosen"),
    [
        ("", {}, ("strategy", "workers")),
        ("", {"workers": 3}, ("strategy",)),
        ("", {"workers": "auto", "strategy": Strategy.PROCESS}, ("workers",)),
        ('[lanes.heavy]\nstrategy = "process"\nworkers = 4\n', {}, ()),
        ("[lanes.heavy]\nworkers = 4\n", {}, ("strategy",)),
        ('[lanes.heavy]\nworkers = "auto"\n', {}, ("strategy", "workers")),
    ],
)
def test_the_plan_knows_which_choices_are_workflows_own(
    tmp_path: Path, lanes: str, options: dict[str, object], chosen: tuple[str, ...]
) -> None:
    config = loaded(tmp_path, CONFIG.replace("[lanes.heavy]\nsla = { unit = 90 }\n", lanes))
    plan = build_plan(config, PlanOptions(lane=Lane.HEAVY, **options), MACHINE)  # type: ignore[arg-type]
    assert plan.chosen_by_workflow == chosen
