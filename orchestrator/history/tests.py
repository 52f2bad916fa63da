"""Per-test rows in the history: every test's outcome and duration, per run and stage.

Rows are kept for the most recent `KEEP_RUNS` runs of each lane (what flaky detection and
per-test trends read) and pruned after that, so a 10,000-test suite recorded a thousand
times stays a bounded file (DESIGN.md, "Per-test results", "Scale"). Rows are grouped by
`inputs_key`: two outcomes of one test only say something about flakiness when the code
under test was the same (the cache's key, else the commit of a clean tree; None: unknown).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from orchestrator.history.schema import HistoryError, connect
from orchestrator.model.writes import reason

KEEP_RUNS = 100  # per lane
BROKEN_SHARE = 0.5  # a stage run where more than this share of its tests failed is broken

# A run's rows, stage by stage: the stage run, its tests' ids (new ones added), then one
# row per test, its id's key found in C by the INSERT ... SELECT.
_INSERT_RUN = "INSERT INTO test_runs (run_id, stage, inputs_key) VALUES (?, ?, ?)"
_INSERT_ID = "INSERT OR IGNORE INTO test_ids (stage, test_id) VALUES (?, ?)"
_INSERT = """INSERT OR REPLACE INTO test_outcomes (test_run, test_key, outcome, duration_s)
    SELECT ?, test_key, ?, ? FROM test_ids WHERE stage = ? AND test_id = ?"""
# Runs of this lane past the newest KEEP_RUNS, in `run_order`'s order; their outcomes go
# with them (ON DELETE CASCADE).
_PRUNE = """DELETE FROM test_runs WHERE run_id IN (
    SELECT run_id FROM runs WHERE lane = ?
    ORDER BY started_utc DESC, seq DESC LIMIT -1 OFFSET ?)"""
# Ids no kept row refers to (renamed tests, ids with generated parts): without this the
# id table would grow with every run whose test ids differ.
_PRUNE_IDS = """DELETE FROM test_ids WHERE NOT EXISTS (
    SELECT 1 FROM test_outcomes AS o WHERE o.test_key = test_ids.test_key)"""
# Tests that passed and failed with the same inputs in the last N runs. A stage run where
# most tests failed (a broken environment) is no evidence; a flaky outcome is both.
_FLAKY = """WITH recent AS (
        SELECT run_id FROM runs ORDER BY started_utc DESC, seq DESC LIMIT ?
    ), healthy AS (
        SELECT t.run_id, t.stage FROM test_results AS t JOIN recent USING (run_id)
        GROUP BY t.run_id, t.stage
        HAVING SUM(t.outcome IN ('failed', 'error')) <= ? * SUM(t.outcome != 'skipped')
    ), counted AS (
        SELECT t.stage, t.test_id, t.inputs_key,
            SUM(t.outcome IN ('passed', 'flaky')) AS passed,
            SUM(t.outcome IN ('failed', 'error', 'flaky')) AS failed,
            SUM(t.outcome = 'flaky') AS flipped,
            COUNT(*) AS runs
        FROM test_results AS t JOIN healthy USING (run_id, stage)
        WHERE t.inputs_key IS NOT NULL
        GROUP BY t.stage, t.test_id, t.inputs_key
        HAVING passed > 0 AND failed > 0
    )
    SELECT stage, test_id, SUM(runs), SUM(passed), SUM(failed), SUM(flipped),
        COUNT(*) FROM counted GROUP BY stage, test_id
    ORDER BY SUM(failed) DESC, stage, test_id"""
_DURATIONS = """SELECT r.run_id, r.git_sha, t.test_id, t.duration_s FROM test_results AS t
    JOIN runs AS r USING (run_id)
    WHERE r.lane = ? AND t.stage = ? AND t.outcome IN ('passed', 'flaky')
    ORDER BY started_utc, seq"""


class ResultRow(NamedTuple):
    """One test of one stage in one run; `outcome` is an `Outcome` value."""

    stage: str
    test_id: str
    outcome: str
    duration_s: float
    inputs_key: str | None


@dataclass(frozen=True)
class FlakyTest:
    """A test that both passed and failed on the same inputs, with its counts."""

    __test__ = False

    stage: str
    test_id: str
    runs: int  # runs counted (same inputs as a run where it flipped)
    passed: int
    failed: int
    flipped: int  # runs where it failed and then passed on a rerun
    inputs: int  # distinct inputs it flipped on


def record_tests(path: Path, run_id: str, lane: str, rows: Iterable[ResultRow]) -> None:
    """Replace the run's test rows with `rows` and prune the lane's oldest; all or none.

    The run must already be recorded (`HistoryStore.record_run`). A stage's rows share
    one inputs key: the first row's is kept for the stage.
    """
    by_stage: dict[str, list[ResultRow]] = {}
    for row in rows:
        by_stage.setdefault(row.stage, []).append(row)
    with _connection(path) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("DELETE FROM test_runs WHERE run_id = ?", (run_id,))
            for stage, stage_rows in by_stage.items():
                _insert_stage(connection, run_id, stage, stage_rows)
            if connection.execute(_PRUNE, (lane, KEEP_RUNS)).rowcount > 0:
                connection.execute(_PRUNE_IDS)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


def _insert_stage(
    connection: sqlite3.Connection, run_id: str, stage: str, rows: list[ResultRow]
) -> None:
    cursor = connection.execute(_INSERT_RUN, (run_id, stage, rows[0].inputs_key))
    test_run = cursor.lastrowid
    connection.executemany(_INSERT_ID, ((stage, row.test_id) for row in rows))
    connection.executemany(
        _INSERT, ((test_run, r.outcome, r.duration_s, stage, r.test_id) for r in rows)
    )


def flaky_tests(path: Path, last: int) -> list[FlakyTest]:
    """Tests that passed and failed on the same inputs within the last `last` runs."""
    if not path.exists():
        return []
    with _connection(path) as connection:
        rows = connection.execute(_FLAKY, (last, BROKEN_SHARE)).fetchall()
    return [FlakyTest(*row) for row in rows]


def tested_stages(path: Path) -> list[tuple[str, str]]:
    """(lane, stage) pairs that have per-test rows, sorted."""
    if not path.exists():
        return []
    query = """SELECT DISTINCT r.lane, t.stage FROM test_results AS t JOIN runs AS r
        USING (run_id) ORDER BY r.lane, t.stage"""
    with _connection(path) as connection:
        return [(str(lane), str(stage)) for lane, stage in connection.execute(query)]


def passed_durations(path: Path, lane: str, stage: str) -> list[tuple[str, str | None, str, float]]:
    """(run_id, git sha, test id, seconds) of every passing test of `stage`, oldest first."""
    if not path.exists():
        return []
    with _connection(path) as connection:
        rows = connection.execute(_DURATIONS, (lane, stage)).fetchall()
    return [(str(r), s, str(t), float(d)) for r, s, t, d in rows]


# The newest runs of a lane that have per-test rows of a stage, then those rows.
_RECENT_OF_STAGE = """WITH recent AS (
        SELECT run_id FROM runs WHERE lane = ? AND EXISTS (
            SELECT 1 FROM test_results AS t WHERE t.run_id = runs.run_id AND t.stage = ?)
        ORDER BY started_utc DESC, seq DESC LIMIT ?
    )
    SELECT t.test_id, t.duration_s FROM test_results AS t JOIN recent USING (run_id)
    WHERE t.stage = ? AND t.outcome IN ('passed', 'flaky', 'failed', 'error')"""
SPLIT_RUNS = 3  # a test's expected seconds: the median of its newest runs


def expected_test_durations(path: Path, lane: str, stage: str) -> dict[str, float]:
    """Test id -> expected seconds (median of its last `SPLIT_RUNS` runs in `lane`): what
    a split plan balances. Skipped tests are left out (they take no time wherever they go)."""
    if not path.exists():
        return {}
    with _connection(path) as connection:
        rows = connection.execute(_RECENT_OF_STAGE, (lane, stage, SPLIT_RUNS, stage)).fetchall()
    seen: dict[str, list[float]] = {}
    for test_id, seconds in rows:
        seen.setdefault(str(test_id), []).append(float(seconds))
    return {test: sorted(values)[len(values) // 2] for test, values in seen.items()}


@contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    """The database, with sqlite and OS errors turned into one-sentence HistoryErrors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(path)) as connection:
            yield connection
    except (sqlite3.Error, OSError) as exc:
        raise _error(path, exc) from exc


def _error(path: Path, exc: BaseException) -> HistoryError:
    why = reason(exc) if isinstance(exc, OSError) else str(exc)
    return HistoryError(f"{path}: cannot use the history database: {why}.")
