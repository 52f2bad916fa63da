"""A plan with selecting stages: split parts and expectations weigh the selected tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.configfile.load import load_config
from orchestrator.engine.pytest.selectrun import select_argv
from orchestrator.engine.scheduling.sizing import Machine
from orchestrator.history.profiles import StageProfile
from orchestrator.model.config import Lane
from orchestrator.model.selection import SelectMode, SelectRun
from orchestrator.pipeline.plan import Plan, PlanOptions, build_plan
from orchestrator.pipeline.prepare import expected_with_selection, selected_durations
from orchestrator.pipeline.splits import split_stages

MACHINE = Machine(affinity_cpus=2, quota_cpus=None, memory_available=8 * 2**30, memory_total=2**34)
TESTS = {f"tests/test_{i}.py::test_x": 10.0 for i in range(6)}


def plan(tmp_path: Path, split: str = "") -> Plan:
    (tmp_path / "workflow.toml").write_text(
        f'[stages.unit]\nrun = "pytest tests"\nselect = "affected"\n{split}\n'
    )
    loaded = load_config(tmp_path / "workflow.toml")
    profiles = {"unit": StageProfile(duration_s=61.0, cpu_percent=100.0)}
    made = build_plan(loaded, PlanOptions(lane=Lane.HEAVY), MACHINE, profiles)
    skip = frozenset(t for t in TESTS if not t.startswith(("tests/test_0", "tests/test_1")))
    chosen = SelectRun(mode=SelectMode.AFFECTED, reason="changed: a.py: f", skip=skip)
    return replace(made, stages=tuple(replace(s, select=chosen) for s in made.stages))


def test_a_selecting_stage_is_expected_to_take_what_its_selected_tests_take(
    tmp_path: Path,
) -> None:
    made = plan(tmp_path)
    durations = selected_durations(made, {"unit": TESTS})
    assert set(durations["unit"]) == {"tests/test_0.py::test_x", "tests/test_1.py::test_x"}
    expected = expected_with_selection(made, durations, {"unit": 1.0}).stage("unit").expected
    assert expected is not None and expected.duration_s == 21.0  # 2 x 10 s + 1 s overhead


def test_split_parts_are_planned_from_the_selected_tests(tmp_path: Path) -> None:
    made = plan(tmp_path, "split = 2")
    split = split_stages(made, selected_durations(made, {"unit": TESTS})).stage("unit").split
    assert split is not None
    assert set(split.files) == {"tests/test_0.py", "tests/test_1.py"}
    assert sorted(split.loads_s) == [10.0, 10.0]  # balanced on what will run


def test_the_selection_plugin_is_named_before_any_other_plugin() -> None:
    # Its hook must deselect before a split part's plugin keeps its share, and among
    # hooks that run last, the first registered runs first.
    assert select_argv(("pytest", "-q", "-p", "workflow_split")) == (
        "pytest",
        "-p",
        "workflow_select",
        "-q",
        "-p",
        "workflow_split",
    )
    assert select_argv(("python", "-m", "pytest", "tests"))[:5] == (
        "python",
        "-m",
        "pytest",
        "-p",
        "workflow_select",
    )
