"""The replay against the real pool: the same stages, the same admission decisions.

The pool runs real processes; the replay is fed the record they leave. Each test is
built so that the order of starts is decided by the policy (one worker, needs, the core
budget), never by which sleep happens to end first on a busy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.scheduling.replay import MAX_DELAY_S, replay_record
from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import RunRecord
from tests.helpers.reports_samples import record


def sleep(name: str, seconds: float, **options: Any) -> StageSpec:
    command = (sys.executable, "-c", f"import time; time.sleep({seconds})")
    return StageSpec(name=name, command=command, **options)


def recorded(specs: list[StageSpec], tmp_path: Path, strategy: Strategy, **pool: Any) -> RunRecord:
    runner = AdaptiveWorkerPool(strategy, log_dir=tmp_path / "logs", **pool)
    for spec in specs:
        runner.submit(spec)
    try:
        runner.wait_all()
    finally:
        runner.shutdown()
    return record(
        *runner.results, workers=runner.workers, strategy=strategy.value, pool=runner.metrics
    )


def start_order(run: RunRecord) -> list[str]:
    return [s.name for s in sorted(run.stages, key=lambda s: s.start_offset_s)]


def test_one_worker_replays_in_the_order_the_pool_chose(tmp_path: Path) -> None:
    specs = [
        sleep("a", 0.3, number=2, expected_s=1.0),
        sleep("b", 0.3, number=3, expected_s=3.0),
        sleep("c", 0.3, number=4, expected_s=5.0, needs=("a",)),
    ]
    run = recorded(specs, tmp_path, Strategy.THREAD, initial_size=1)
    assert start_order(run) == ["b", "a", "c"]
    replayed = replay_record(run)
    by_start = sorted(replayed.placements, key=lambda n: replayed.placements[n].start_s)
    assert by_start == start_order(run)
    assert replayed.critical_path == ("b", "a", "c")
    # Nothing ran beside anything: the recorded wall is the replayed one plus overhead.
    assert replayed.wall_s <= run.pool.total_duration_s


def test_a_cpu_bound_stage_that_waited_for_the_core_waits_in_the_replay(tmp_path: Path) -> None:
    specs = [
        sleep("first", 0.2, number=2, kind="cpu", expected_s=2.0),
        sleep("second", 0.1, number=3, kind="cpu", expected_s=1.0),
        sleep("io", 0.1, number=4, kind="io"),
    ]
    run = recorded(specs, tmp_path, Strategy.ADAPTIVE, initial_size=3, usable_cpus=1.0)
    first, second = run.stage("first"), run.stage("second")
    assert first is not None and second is not None
    assert second.start_offset_s >= first.start_offset_s + first.duration_s - 0.01
    replayed = replay_record(run)
    assert replayed.placements["second"].waited_core_s > 0
    io = run.stage("io")
    assert io is not None  # at once, beside first: only the pool's start latency
    assert replayed.placements["io"].start_s == pytest.approx(min(io.start_offset_s, MAX_DELAY_S))
    assert replayed.placements["io"].ready_s == 0.0
    assert replayed.placements["second"].after == "first"
