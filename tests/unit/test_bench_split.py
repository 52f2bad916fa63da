"""The split benchmark's own decisions: its generated configuration, its figures, its targets.

The benchmark itself runs a project from PyPI for minutes; these tests check what it
writes and how it judges samples, with stages of our own and samples given by hand.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from bench.model import Measurements, Sample, Stage, WorkflowSample, Workload
from bench.split_report import figures
from bench.split_workload import CONFIG, HISTORY, write_split_files


def workload(root: Path) -> Workload:
    lint = Stage("lint", (sys.executable, "-c", "pass"), root)
    tests = Stage("pytest", (sys.executable, "-m", "pytest", "-q", "tests"), root)
    return Workload("split", "example", (lint, tests), root)


def test_the_config_splits_pytest_alone_keeps_history_and_validates(tmp_path: Path) -> None:
    config = write_split_files(workload(tmp_path))
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert config.name == CONFIG
    assert data["workflow"]["history"] == HISTORY
    assert data["stages"]["pytest"]["split"] == "auto"
    assert "split" not in data["stages"]["lint"]
    assert "kind" not in data["stages"]["pytest"]
    makefile = (tmp_path / "Makefile").read_text(encoding="utf-8")
    assert "all: lint pytest" in makefile
    checked = subprocess.run(
        [sys.executable, "-m", "orchestrator", "validate", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def split_run(wall: float, cpu: float, parts: int) -> WorkflowSample:
    stage = {
        "name": "pytest",
        "status": "passed",
        "parts": [{"part": f"{i + 1}/{parts}"} for i in range(parts)],
    }
    return WorkflowSample(Sample(wall, cpu, 0), wall - 0.5, 0.1, cpu, (stage,))


def measured(walls: list[float]) -> Measurements:
    """Rounds where pytest alone takes 50 s and 50 CPU s, lint 10 s: CPU / 2 cores = 30 s."""
    data = Measurements()
    for wall in walls:
        data.alone.setdefault("lint", []).append(Sample(10.0, 10.0, 0))
        data.alone.setdefault("pytest", []).append(Sample(50.0, 50.0, 0))
        data.runners.setdefault("sequential", []).append(Sample(60.0, 60.0, 0))
        data.runners.setdefault("make", []).append(Sample(50.5, 60.0, 0))
        data.workflow.setdefault("workflow", []).append(split_run(wall, 62.0, 2))
        data.runners.setdefault("workflow", []).append(Sample(wall, 62.0, 0))
    return data


def test_both_targets_hold_within_the_slack_of_cpu_over_cores() -> None:
    fig = figures(measured([32.0, 33.0, 40.0]), cores=2)
    assert fig.longest_stage == "pytest"
    assert fig.longest_alone_s == 50.0
    assert fig.cpu_bound_s == 30.0
    assert fig.split_cpu_bound_s == 31.0
    assert fig.parts == (2, 2, 2)
    assert fig.wall["workflow"] == 33.0
    assert [met for _, met in fig.targets()] == [True, True]
    assert fig.failures == ()


def test_a_run_beyond_the_slack_misses_the_bound_but_beats_the_longest_stage() -> None:
    fig = figures(measured([34.0, 34.0, 30.0]), cores=2)  # 34 > 1.10 x 30 = 33
    assert [met for _, met in fig.targets()] == [True, False]


def test_a_failed_stage_is_named() -> None:
    data = measured([32.0])
    failed = WorkflowSample(
        Sample(32.0, 62.0, 1), 31.0, 0.1, 62.0, ({"name": "pytest", "status": "failed"},)
    )
    data.workflow["workflow"][0] = failed
    data.runners["workflow"][0] = failed.sample
    assert figures(data, cores=2).failures == (
        "workflow exited 1",
        "workflow: stage pytest failed",
    )
