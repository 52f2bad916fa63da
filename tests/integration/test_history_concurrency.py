"""Must-show: eight processes recording 50 runs each at the same time lose nothing."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from orchestrator.history.store import HistoryStore
from tests.helpers.trends_data import run, stage

pytestmark = pytest.mark.integration

PROCESSES = 8
RUNS_EACH = 50


def record_many(path: str, worker: int, start: Barrier) -> None:
    store = HistoryStore(Path(path))
    start.wait(timeout=60)  # every process hits the new, empty file at the same moment
    for index in range(RUNS_EACH):
        record = run(index, [stage("lint", 1.0 + worker), stage("unit", 5.0, number=4)])
        store.record_run(replace(record, run_id=f"w{worker}-{index:03d}"))


def test_eight_writers_at_once_record_all_400_runs(tmp_path: Path) -> None:
    path = tmp_path / ".workflow" / "history.db"
    context = multiprocessing.get_context("spawn")  # no state inherited from pytest
    start = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=record_many, args=(str(path), worker, start))
        for worker in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0] * PROCESSES
    runs = HistoryStore(path).runs()
    assert len(runs) == PROCESSES * RUNS_EACH == 400
    assert len({r.run_id for r in runs}) == 400
    assert all(len(r.stages) == 2 for r in runs)
