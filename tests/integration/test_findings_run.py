"""Findings of real runs agree with their records: real `sleep` stages on a real pool.

The replay's saving comes from the recorded durations, so what is asserted is what the
findings decide from the record (which stage, which words, that every quoted figure is
the record's), not how long a loaded machine took.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.records import read_record, wall_time_s
from orchestrator.model.whatif import WhatIf
from sla.bottlenecks import floor_s
from tests.integration.command import workflow
from tests.unit.findings_check import check

SLEEP = shutil.which("sleep") or "sleep"


def sleeps_config(tmp_path: Path, stages: dict[str, list[str]], lane: str) -> None:
    lines = ['[workflow]\nhistory = ""\nreports = "reports"\n']
    for number, (name, argv) in enumerate(stages.items(), start=2):
        lines.append(f'[stages.{name}]\nnumber = {number}\nrun = {json.dumps(argv)}\nkind = "io"\n')
    lines.append(lane)
    (tmp_path / "workflow.toml").write_text("\n".join(lines), encoding="utf-8")


def test_a_stage_others_queue_behind_is_named_with_what_halving_it_moves(tmp_path: Path) -> None:
    # The run at twice its length: halving b saves 1.6 s less c's start latency
    # (at most a second even on a busy machine), well above the 0.5 s floor.
    stages = {n: [SLEEP, s] for n, s in (("a", "6"), ("b", "4"), ("c", "2.4"), ("d", "2"))}
    sleeps_config(
        tmp_path, stages, '[lanes.heavy]\nstrategy = "process"\nworkers = 2\nstage_sla = 600\n'
    )
    done = workflow(tmp_path, "run", "--lane", "heavy", "--format", "json")
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("reports/*/run.json")
    record = read_record(path)
    check(record)
    assert record.pool.untimed == ""
    assert record.pool.chosen_by_workflow == ()  # both set in the lane
    assert record.pool.critical_path == ("a", "d")
    saving = replay_record(record).saving(WhatIf(stage="b", factor=0.5))
    assert saving >= floor_s(wall_time_s(record))
    (queue,) = [b for b in record.bottlenecks if b.kind == "queue" and b.stage == "b"]
    assert queue.saving_s == pytest.approx(saving, abs=0.01)
    assert "c queued behind it on the same worker" in queue.detail
    assert "moves d to the worker that frees first" in queue.detail
    assert "a, then d on the same worker, set it" in done.stdout
    assert "a → d" not in done.stdout


def test_a_run_that_failed_on_a_missing_command_makes_no_speed_finding(tmp_path: Path) -> None:
    stages = {"lint": [SLEEP, "0.3"], "unit": ["no-such-tool-for-workflow", "-q"]}
    sleeps_config(tmp_path, stages, "")
    done = workflow(tmp_path, "run", "--lane", "heavy", "--format", "json,md")
    assert done.returncode == 1, done.stderr
    (path,) = tmp_path.glob("reports/*/run.json")
    record = read_record(path)
    check(record)
    assert record.pool.untimed == "unit could not run"
    assert record.pool.chosen_by_workflow == ("strategy", "workers")
    assert [b for b in record.bottlenecks if b.saving_s is not None] == []
    assert "; unit could not run, so no speed finding is made." in done.stdout
    report = (path.parent / "report.md").read_text(encoding="utf-8")
    assert "unit could not run, so no speed finding is made" in report
    assert "critical path" not in report
