"""The SQLite history store: round trips, idempotence, ordering, profiles, schema, damage."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.configfile.load import load_config
from orchestrator.history.schema import SCHEMA_VERSION, HistoryError
from orchestrator.history.store import (
    HistoryStore,
    profiles_safely,
    record_safely,
)
from orchestrator.model.records import StageStatus
from tests.helpers.trends_data import MIB, RUNNER, run, stage


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / ".workflow" / "history.db")


def test_a_run_reads_back_exactly_as_recorded(store: HistoryStore) -> None:
    record = run(0, [stage("lint", 1.5), stage("unit", 12.0, number=4)])
    store.record_run(record)
    assert store.runs() == [record]


def test_recording_the_same_run_twice_keeps_one(store: HistoryStore) -> None:
    record = run(0, [stage("lint", 1.5)])
    store.record_run(record)
    store.record_run(record)
    changed = replace(record, exit_code=3)
    store.record_run(changed)
    assert store.runs() == [changed]


def test_runs_are_newest_first_across_time_zones(store: HistoryStore) -> None:
    early = replace(
        run(0, [stage("lint", 1.0)]), run_id="b-early", started_at="2026-03-01T12:00:00+02:00"
    )
    late = replace(
        run(0, [stage("lint", 1.0)]), run_id="a-late", started_at="2026-03-01T11:00:00+00:00"
    )
    store.record_run(late)
    store.record_run(early)
    assert [r.run_id for r in store.runs()] == ["a-late", "b-early"]
    assert [r.run_id for r in store.runs(last=1)] == ["a-late"]


def test_reading_a_missing_database_creates_nothing(store: HistoryStore) -> None:
    assert store.runs() == []
    assert store.stage_profiles("heavy", RUNNER) == {}
    assert not store.path.exists()
    assert not store.path.parent.exists()


def test_stage_profiles_are_medians_of_passed_runs_of_the_same_lane_and_runner(
    store: HistoryStore,
) -> None:
    for index, duration in enumerate([10.0, 12.0, 30.0]):
        store.record_run(run(index, [stage("unit", duration, cpu=80.0 + index, rss=MIB * 100)]))
    store.record_run(run(3, [stage("unit", 99.0, status=StageStatus.FAILED)]))
    store.record_run(run(4, [stage("unit", 500.0)], runner="another machine"))
    store.record_run(run(5, [stage("unit", 500.0)], lane="standard"))
    profiles = store.stage_profiles("heavy", RUNNER)
    assert set(profiles) == {"unit"}
    unit = profiles["unit"]
    assert (unit.duration_s, unit.cpu_percent, unit.peak_rss_bytes, unit.samples) == (
        12.0,
        81.0,
        100 * MIB,
        3,
    )
    assert store.stage_profiles("heavy", RUNNER, recent=2)["unit"].samples == 1  # 30 s only
    assert profiles_safely(store.path, "heavy", RUNNER) == profiles


def test_the_database_uses_wal_and_records_its_schema_version(store: HistoryStore) -> None:
    store.record_run(run(0, [stage("lint", 1.0)]))
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = connection.execute("SELECT version FROM schema_version").fetchone()[0]
        stages = connection.execute("SELECT name, duration_s FROM stages").fetchall()
    assert version == SCHEMA_VERSION
    assert stages == [("lint", 1.0)]


def test_an_empty_version_zero_database_is_migrated(store: HistoryStore) -> None:
    store.path.parent.mkdir(parents=True)
    with sqlite3.connect(store.path) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (0)")
    store.record_run(run(0, [stage("lint", 1.0)]))
    assert len(store.runs()) == 1


def test_a_newer_schema_is_refused_with_its_version(store: HistoryStore) -> None:
    store.record_run(run(0, [stage("lint", 1.0)]))
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="schema 99 was written by a newer workflow"):
        store.runs()


def test_a_corrupt_database_is_reported_in_one_sentence_and_left_byte_identical(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    before = digest(path)
    message = record_safely(path, run(0, [stage("lint", 1.0)]))
    assert message is not None
    assert message.startswith("history not written: ")
    assert str(path) in message
    assert "not a database" in message
    assert message.count(". ") == 0 and message.endswith(".")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]
    assert profiles_safely(path, "heavy", RUNNER) == {}
    with pytest.raises(HistoryError, match="cannot use the history database"):
        HistoryStore(path).runs()


def test_a_foreign_sqlite_database_is_not_written_to(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (name TEXT)")
    before = digest(path)
    message = record_safely(path, run(0, [stage("lint", 1.0)]))
    assert message is not None
    assert "not a workflow history database" in message
    assert digest(path) == before


def test_an_unusable_path_is_reported_not_raised(tmp_path: Path) -> None:
    directory = tmp_path / "history.db"
    directory.mkdir()
    assert "unable to open" in (record_safely(directory, run(0, [stage("lint", 1.0)])) or "")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert record_safely(blocker / "history.db", run(0, [stage("lint", 1.0)])) is not None


def test_record_safely_returns_none_when_it_worked(tmp_path: Path) -> None:
    path = tmp_path / "new" / "history.db"
    assert record_safely(path, run(0, [stage("lint", 1.0)])) is None
    assert len(HistoryStore(path).runs()) == 1


def test_history_path_follows_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "workflow.toml"
    config.write_text('[workflow]\nhistory = "data/h.db"\n[stages.lint]\nrun = "true"\n')
    assert load_config(config).history_file == (tmp_path / "data" / "h.db").resolve()
    config.write_text('[workflow]\nhistory = ""\n[stages.lint]\nrun = "true"\n')
    assert load_config(config).history_file is None
