"""How long per-test rows stay: the newest KEEP_RUNS runs of each lane, and no longer.

Real SQLite files and the real store; the runs are synthetic records. The retention is
the shipped one (100 runs per lane), not a patched smaller number, so the first test
checks what the code decides at its real size; the id test needs only a few runs.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.history import tests as history_tests
from orchestrator.history.schema import MIGRATIONS, SCHEMA_VERSION, connect
from orchestrator.history.store import HistoryStore
from orchestrator.history.tests import KEEP_RUNS, ResultRow, expected_overhead, record_tests
from orchestrator.model.records import RunRecord
from tests.helpers.trends_data import run, stage

BEYOND = 7  # runs recorded past the retention in the busier lane


def rows(index: int) -> list[ResultRow]:
    """Two stable tests and one whose id names its run (a generated parameter)."""
    return [
        ResultRow("unit", "t.py::a", "passed", 0.1, f"commit {index}"),
        ResultRow("unit", "t.py::b", "failed", 0.2, f"commit {index}"),
        ResultRow("unit", f"t.py::gen[{index}]", "passed", 0.3, f"commit {index}"),
    ]


def record(db: Path, index: int, lane: str) -> RunRecord:
    """Run `index` (its start `index` hours in) of `lane`, with its test rows."""
    made = run(index, [stage("unit", 1.0)], lane=lane)
    HistoryStore(db).record_run(made)
    record_tests(db, made.run_id, made.lane, rows(index))
    return made


def stored(db: Path, query: str) -> set[str]:
    with closing(sqlite3.connect(db)) as connection:
        return {str(value) for (value,) in connection.execute(query)}


def test_the_newest_runs_of_each_lane_keep_their_rows_and_older_ones_lose_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.db"
    heavy: list[RunRecord] = []
    docs: list[RunRecord] = []
    for index in range(KEEP_RUNS + BEYOND):
        heavy.append(record(db, 2 * index, "heavy"))
        if index < KEEP_RUNS - 1:
            docs.append(record(db, 2 * index + 1, "docs"))  # fewer than KEEP_RUNS: all kept
    # Imported late but started first: the oldest run of its lane, pruned at once.
    late = replace(run(-1, [stage("unit", 1.0)]), run_id="imported-late")
    HistoryStore(db).record_run(late)
    record_tests(db, late.run_id, late.lane, rows(-1))

    kept = stored(db, "SELECT DISTINCT run_id FROM test_results")
    assert kept == {r.run_id for r in heavy[BEYOND:]} | {r.run_id for r in docs}
    assert len(stored(db, "SELECT run_id FROM runs")) == len(heavy) + len(docs) + 1
    # Every kept run keeps all three of its tests, outcomes and inputs key included.
    newest = heavy[-1]
    with closing(sqlite3.connect(db)) as connection:
        newest_rows = connection.execute(
            "SELECT stage, test_id, outcome, duration_s, inputs_key FROM test_results"
            " WHERE run_id = ? ORDER BY test_id",
            (newest.run_id,),
        ).fetchall()
    assert [ResultRow(*row) for row in newest_rows] == rows(2 * (KEEP_RUNS + BEYOND - 1))
    # Test ids only pruned runs had are gone too: the id table does not grow without end.
    generated = stored(db, "SELECT test_id FROM test_ids WHERE test_id LIKE 't.py::gen[%'")
    assert generated == {f"t.py::gen[{2 * i}]" for i in range(BEYOND, KEEP_RUNS + BEYOND)} | {
        f"t.py::gen[{2 * i + 1}]" for i in range(KEEP_RUNS - 1)
    }


def test_recording_a_run_again_replaces_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    made = record(db, 0, "heavy")
    record_tests(db, made.run_id, made.lane, rows(0)[:1])
    assert stored(db, "SELECT test_id FROM test_results") == {"t.py::a"}
    HistoryStore(db).record_run(made)  # the run itself recorded again: its rows go with it
    assert stored(db, "SELECT test_id FROM test_results") == set()


def test_a_schema_three_history_keeps_its_test_rows(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    made = run(0, [stage("unit", 1.0)])
    HistoryStore(db).record_run(made)  # the current schema; rebuilt below as schema 3
    old_rows = [(made.run_id, *row) for row in rows(0)]
    with closing(sqlite3.connect(db, isolation_level=None)) as connection:
        for statement in ("DROP VIEW test_results", "DROP TABLE test_outcomes"):
            connection.execute(statement)
        connection.execute("DROP TABLE test_runs")
        connection.execute("DROP TABLE test_ids")
        for statement in MIGRATIONS[2]:
            connection.execute(statement)
        connection.executemany("INSERT INTO test_results VALUES (?, ?, ?, ?, ?, ?)", old_rows)
        drop_selection_tables(connection)  # schema 6 made them
        connection.execute("UPDATE schema_version SET version = 3")
    with closing(connect(db)) as connection:
        version = connection.execute("SELECT version FROM schema_version").fetchone()[0]
        migrated = connection.execute(
            "SELECT run_id, stage, test_id, outcome, duration_s, inputs_key FROM test_results"
            " ORDER BY test_id"
        ).fetchall()
    assert version == SCHEMA_VERSION
    assert migrated == old_rows


SELECTION_TABLES = (
    "select_versions",
    "select_sets",
    "select_tests",
    "select_state",
    "select_sources",
)


def drop_selection_tables(connection: sqlite3.Connection) -> None:
    """Make a current database look as it did before schema 6."""
    for table in SELECTION_TABLES:
        connection.execute(f"DROP TABLE {table}")


def test_a_schema_five_history_gains_the_selection_tables_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.db"
    made = record(db, 0, "heavy")
    record_tests(db, made.run_id, made.lane, rows(0))
    with closing(sqlite3.connect(db, isolation_level=None)) as connection:
        drop_selection_tables(connection)
        connection.execute("UPDATE schema_version SET version = 5")
    with closing(connect(db)) as connection:
        version = connection.execute("SELECT version FROM schema_version").fetchone()[0]
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert version == SCHEMA_VERSION
    assert set(SELECTION_TABLES) <= tables
    assert stored(db, "SELECT test_id FROM test_results") == {r.test_id for r in rows(0)}


def test_a_schema_four_history_gains_the_process_overhead_column(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    made = record(db, 0, "heavy")
    record_tests(db, made.run_id, made.lane, rows(0))
    with closing(sqlite3.connect(db, isolation_level=None)) as connection:
        connection.execute("ALTER TABLE test_runs DROP COLUMN overhead_s")  # as schema 4 was
        drop_selection_tables(connection)  # schema 6 made them
        connection.execute("UPDATE schema_version SET version = 4")
    assert expected_overhead(db, "heavy", "unit") is None  # migrated: the column, no value
    with closing(connect(db)) as connection:
        version = connection.execute("SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION
    assert stored(db, "SELECT test_id FROM test_results") == {r.test_id for r in rows(0)}


def test_an_id_another_lane_still_uses_outlives_the_pruned_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_tests, "KEEP_RUNS", 2)
    db = tmp_path / "h.db"
    shared = ResultRow("unit", "t.py::shared", "passed", 0.1, None)
    only_old = ResultRow("unit", "t.py::only_old", "passed", 0.1, None)
    stable = ResultRow("unit", "t.py::stable", "passed", 0.1, None)
    for index, lane, rows_of_run in (
        (0, "heavy", [shared, only_old, stable]),
        (1, "docs", [shared]),
        (2, "heavy", [stable]),
        (3, "heavy", [stable]),  # the heavy run 0 is now past the retention
    ):
        made = run(index, [stage("unit", 1.0)], lane=lane)
        HistoryStore(db).record_run(made)
        record_tests(db, made.run_id, made.lane, rows_of_run)
    assert stored(db, "SELECT test_id FROM test_ids") == {"t.py::shared", "t.py::stable"}
    assert stored(db, "SELECT test_id FROM test_results") == {"t.py::shared", "t.py::stable"}
