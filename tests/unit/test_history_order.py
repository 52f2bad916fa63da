"""The history's order: start instant, then order of recording; older databases migrate."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.history.profiles import RECENT_RUNS, profiles_from_reports
from orchestrator.history.schema import MIGRATIONS, SCHEMA_VERSION, HistoryError
from orchestrator.history.store import HistoryStore
from orchestrator.model.records import RunRecord, write_record
from orchestrator.model.run_order import utc_key
from tests.helpers.trends_data import run, stage

SECOND = "2026-03-01T12:00:07+00:00"


def at(run_id: str, started_at: str, duration: float = 1.0) -> RunRecord:
    return replace(run(0, [stage("unit", duration)]), run_id=run_id, started_at=started_at)


def first_schema_key(started_at: str) -> str:
    """`started_utc` as schema 1 wrote it: text that was not a time was kept as it was."""
    try:
        datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    return utc_key(started_at)


def schema_one_database(path: Path, records: list[RunRecord]) -> None:
    """A history as the first schema wrote it: no `seq`, ties listed by run id."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (1)")
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        for r in records:
            connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.run_id,
                    r.started_at,
                    first_schema_key(r.started_at),
                    r.lane,
                    r.host.runner_class,
                    r.strategy,
                    r.workers,
                    r.exit_code,
                    1,
                    r.pool.total_duration_s,
                    r.git.sha,
                    r.git.branch,
                    r.host.cpus,
                    r.host.memory_bytes,
                    r.host.python,
                    json.dumps(r.to_dict(), sort_keys=True),
                ),
            )
    connection.close()


def test_an_older_database_keeps_its_order_and_new_runs_go_after_ties(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    schema_one_database(
        path,
        [
            at("20260301T120009Z-000001", "2026-03-01T12:00:09+00:00"),
            at("20260301T120007Z-ffffff", SECOND),
            at("20260301T120007Z-aaaaaa", "2026-03-01T14:00:07+02:00"),  # the same instant
            at("20260301T120005Z-999999", "2026-03-01T12:00:05+00:00"),
            at("unreadable", "the day before"),  # stored as it was: it now sorts first
        ],
    )
    store = HistoryStore(path)
    before = ["20260301T120009Z-000001", "20260301T120007Z-ffffff", "20260301T120007Z-aaaaaa"]
    assert [r.run_id for r in store.runs()][:3] == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchone()[0] == (
            SCHEMA_VERSION
        )
        seqs = connection.execute("SELECT run_id, seq FROM runs ORDER BY seq").fetchall()
    connection.close()
    assert [seq for _, seq in seqs] == [1, 2, 3, 4, 5]
    assert [r.run_id for r in store.runs()][-1] == "unreadable"

    store.record_run(at("20260301T120007Z-000000", SECOND))  # sorts first by id, recorded last
    assert [r.run_id for r in store.runs(last=3)] == [
        "20260301T120009Z-000001",
        "20260301T120007Z-000000",
        "20260301T120007Z-ffffff",
    ]


def test_recording_a_run_again_keeps_its_place(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.db")
    store.record_runs([at("b", SECOND), at("a", SECOND), at("c", SECOND)])
    store.record_run(at("b", SECOND, duration=5.0))  # a repeated import replaces it in place
    assert [r.run_id for r in store.runs()] == ["c", "a", "b"]
    assert store.runs()[2].pool.total_duration_s == 5.0


def test_a_batch_is_recorded_all_or_nothing(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.db")
    store.record_run(at("kept", SECOND))
    broken = replace(at("broken", SECOND), stages=(stage("x", 1.0), stage("x", 2.0)))
    with pytest.raises(HistoryError, match="UNIQUE"):  # one stage twice breaks the key
        store.record_runs([at("first", SECOND), broken])
    assert [r.run_id for r in store.runs()] == ["kept"]


def test_profiles_from_reports_take_the_latest_started_not_the_latest_written(
    tmp_path: Path,
) -> None:
    """A long run that started first and ended last is not among the latest ten."""
    reports = tmp_path / "reports"
    durations = [100.0] + [1.0] * 5 + [3.0] * 5  # r00 started first, then r01..r10
    for index, duration in enumerate(durations):
        record = at(f"r{index:02d}", f"2026-03-01T12:00:{index:02d}.5+00:00", duration)
        path = reports / record.run_id / "run.json"
        write_record(record, path)
        written = 2_100_000_000 if index == 0 else 2_000_000_000 + index  # r00 ended last
        os.utime(path, (written, written))
    profile = profiles_from_reports(reports, "heavy")["unit"]
    assert profile.samples == RECENT_RUNS
    assert profile.duration_s == 2.0  # the median of r01..r10; by file time it would be 3 s
