"""Per-test rows in the history: every test's outcome and duration, per run and stage.

Rows are kept for the most recent `KEEP_RUNS` runs of each lane (what flaky detection and
per-test trends read) and pruned after that, so a 10,000-test suite recorded a thousand
times stays a bounded file (DESIGN.md, "Per-test results", "Scale"). Rows are grouped by
`inputs_key`: two outcomes of one test only say something about flakiness when the code
under test was the same (the cache's key, else the commit of a clean tree; None: unknown).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from orchestrator.history.schema import database
from orchestrator.history.testprune import drop_test_runs, drop_unused_ids
from orchestrator.model.stats import median

KEEP_RUNS = 100  # per lane
BROKEN_SHARE = 0.5  # a stage run where more than this share of its tests failed is broken

# A run's rows, stage by stage: the stage run, its tests' ids (new ones added), then one
# row per test with its id's key.
_INSERT_RUN = """INSERT INTO test_runs (run_id, stage, inputs_key, overhead_s)
    VALUES (?, ?, ?, ?)"""
_INSERT_ID = "INSERT OR IGNORE INTO test_ids (stage, test_id) VALUES (?, ?)"
_KNOWN_IDS = "SELECT test_id, test_key FROM test_ids WHERE stage = ?"
_COUNT_IDS = "SELECT COUNT(*) FROM test_ids WHERE stage = ?"
_KEY = "SELECT test_key FROM test_ids WHERE stage = ? AND test_id = ?"
DICT_IDS_FACTOR = 3  # read every id of a stage when it has at most this many per row
_INSERT = """INSERT OR REPLACE INTO test_outcomes (test_run, test_key, outcome, duration_s)
    VALUES (?, ?, ?, ?)"""
# Stage runs of this lane's runs past the newest KEEP_RUNS, in `run_order`'s order.
_PAST_RETENTION = """SELECT s.test_run FROM test_runs AS s JOIN (
        SELECT run_id FROM runs WHERE lane = ?
        ORDER BY started_utc DESC, seq DESC LIMIT -1 OFFSET ?
    ) USING (run_id)"""
# Tests that passed and failed with the same inputs in the last N runs. A stage run where
# most tests failed (a broken environment) is no evidence; a flaky outcome is both.
# The queries read the tables, not the `test_results` view: counting by test key and
# naming the few tests found at the end is several times quicker on a million rows.
_FLAKY = """WITH recent AS (
        SELECT s.test_run, s.stage, s.inputs_key FROM test_runs AS s JOIN (
            SELECT run_id FROM runs ORDER BY started_utc DESC, seq DESC LIMIT ?
        ) USING (run_id)
    ), healthy AS (
        SELECT o.test_run FROM test_outcomes AS o JOIN recent USING (test_run)
        WHERE recent.inputs_key IS NOT NULL
        GROUP BY o.test_run
        HAVING SUM(o.outcome IN ('failed', 'error')) <= ? * SUM(o.outcome != 'skipped')
    ), counted AS (
        SELECT o.test_key, r.inputs_key,
            SUM(o.outcome IN ('passed', 'flaky')) AS passed,
            SUM(o.outcome IN ('failed', 'error', 'flaky')) AS failed,
            SUM(o.outcome = 'flaky') AS flipped,
            COUNT(*) AS runs
        FROM test_outcomes AS o JOIN healthy USING (test_run) JOIN recent AS r USING (test_run)
        GROUP BY o.test_key, r.inputs_key
        HAVING passed > 0 AND failed > 0
    )
    SELECT i.stage, i.test_id, SUM(runs), SUM(passed), SUM(failed), SUM(flipped),
        COUNT(*) FROM counted JOIN test_ids AS i USING (test_key) GROUP BY i.test_key
    ORDER BY SUM(failed) DESC, i.stage, i.test_id"""
_DURATIONS = """SELECT r.run_id, r.git_sha, i.test_id, o.duration_s FROM runs AS r
    JOIN test_runs AS s USING (run_id)
    JOIN test_outcomes AS o USING (test_run)
    JOIN test_ids AS i USING (test_key)
    WHERE r.lane = ? AND s.stage = ? AND o.outcome IN ('passed', 'flaky')
    ORDER BY started_utc, seq"""
_TESTED = """SELECT DISTINCT r.lane, s.stage FROM test_runs AS s JOIN runs AS r USING (run_id)
    ORDER BY r.lane, s.stage"""


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


def record_tests(
    path: Path,
    run_id: str,
    lane: str,
    rows: Iterable[ResultRow],
    overheads: Mapping[str, float] | None = None,
) -> None:
    """Replace the run's test rows with `rows` and prune the lane's oldest; all or none.

    The run must already be recorded (`HistoryStore.record_run`). A stage's rows share
    one inputs key: the first row's is kept for the stage. `overheads`: stage -> seconds
    each of its pytest processes spent besides its tests (`expected_overhead` reads them).
    """
    by_stage: dict[str, list[ResultRow]] = {}
    for row in rows:
        by_stage.setdefault(row.stage, []).append(row)
    with database(path) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            replaced = connection.execute(
                "SELECT test_run FROM test_runs WHERE run_id = ?", (run_id,)
            ).fetchall()
            gone = drop_test_runs(connection, [test_run for (test_run,) in replaced])
            written: dict[int, set[int]] = {}
            for stage, stage_rows in by_stage.items():
                overhead = (overheads or {}).get(stage)
                test_run, keys = _insert_stage(connection, run_id, stage, stage_rows, overhead)
                written[test_run] = keys
            past = [r for (r,) in connection.execute(_PAST_RETENTION, (lane, KEEP_RUNS))]
            gone |= drop_test_runs(connection, past)
            for test_run, keys in written.items():
                if test_run not in past:
                    gone -= keys  # still used by this run, which is kept
            drop_unused_ids(connection, gone)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


def _insert_stage(
    connection: sqlite3.Connection,
    run_id: str,
    stage: str,
    rows: list[ResultRow],
    overhead_s: float | None,
) -> tuple[int, set[int]]:
    """Write one stage's rows; (its stage run, the test keys it used)."""
    cursor = connection.execute(_INSERT_RUN, (run_id, stage, rows[0].inputs_key, overhead_s))
    test_run = int(cursor.lastrowid or 0)
    # The stage's ids read as one dict are quicker than a probe of the (stage, test_id)
    # index per row, unless most of them belong to other runs (ids that change per run).
    (known,) = connection.execute(_COUNT_IDS, (stage,)).fetchone()
    if known <= DICT_IDS_FACTOR * len(rows):
        keys: dict[str, int] = dict(connection.execute(_KNOWN_IDS, (stage,)).fetchall())
        new = [(stage, row.test_id) for row in rows if row.test_id not in keys]
        if new:
            connection.executemany(_INSERT_ID, new)
            keys = dict(connection.execute(_KNOWN_IDS, (stage,)).fetchall())
    else:
        connection.executemany(_INSERT_ID, ((stage, row.test_id) for row in rows))
        keys = {
            row.test_id: connection.execute(_KEY, (stage, row.test_id)).fetchone()[0]
            for row in rows
        }
    connection.executemany(
        _INSERT, ((test_run, keys[r.test_id], r.outcome, r.duration_s) for r in rows)
    )
    return test_run, {keys[row.test_id] for row in rows}


def flaky_tests(path: Path, last: int) -> list[FlakyTest]:
    """Tests that passed and failed on the same inputs within the last `last` runs."""
    if not path.exists():
        return []
    with database(path) as connection:
        rows = connection.execute(_FLAKY, (last, BROKEN_SHARE)).fetchall()
    return [FlakyTest(*row) for row in rows]


def tested_stages(path: Path) -> list[tuple[str, str]]:
    """(lane, stage) pairs that have per-test rows, sorted."""
    if not path.exists():
        return []
    with database(path) as connection:
        return [(str(lane), str(stage)) for lane, stage in connection.execute(_TESTED)]


def passed_durations(path: Path, lane: str, stage: str) -> list[tuple[str, str | None, str, float]]:
    """(run_id, git sha, test id, seconds) of every passing test of `stage`, oldest first."""
    if not path.exists():
        return []
    with database(path) as connection:
        rows = connection.execute(_DURATIONS, (lane, stage)).fetchall()
    return [(str(r), s, str(t), float(d)) for r, s, t, d in rows]


# The newest runs of a lane that have per-test rows of a stage, then those rows.
_RECENT_OF_STAGE = """WITH recent AS (
        SELECT s.test_run, ROW_NUMBER() OVER (ORDER BY started_utc DESC, seq DESC) AS newness
        FROM runs AS r JOIN test_runs AS s USING (run_id)
        WHERE r.lane = ? AND s.stage = ?
        ORDER BY newness LIMIT ?
    )
    SELECT i.test_id, o.duration_s FROM test_outcomes AS o JOIN recent USING (test_run)
    JOIN test_ids AS i USING (test_key)
    WHERE o.outcome IN ('passed', 'flaky', 'failed', 'error')
    ORDER BY recent.newness"""
SPLIT_RUNS = 3  # a test's expected seconds: the median of its newest runs
# The stage runs a test's newest runs are looked for in: a few runs that stopped early (a
# collection error, a shard missing from a merge) do not make the plan forget the tests.
SPLIT_WINDOW = 10


def expected_test_durations(path: Path, lane: str, stage: str) -> dict[str, float]:
    """Test id -> expected seconds (median of its newest `SPLIT_RUNS` runs in `lane`,
    among the stage's newest `SPLIT_WINDOW` runs): what a split plan balances. Skipped
    tests are left out (they take no time wherever they go)."""
    if not path.exists():
        return {}
    with database(path) as connection:
        rows = connection.execute(_RECENT_OF_STAGE, (lane, stage, SPLIT_WINDOW)).fetchall()
    seen: dict[str, list[float]] = {}
    for test_id, seconds in rows:  # newest first
        values = seen.setdefault(str(test_id), [])
        if len(values) < SPLIT_RUNS:
            values.append(float(seconds))
    return {test: median(values) for test, values in seen.items()}


_RECENT_OVERHEADS = """SELECT s.overhead_s FROM runs AS r JOIN test_runs AS s USING (run_id)
    WHERE r.lane = ? AND s.stage = ? AND s.overhead_s IS NOT NULL
    ORDER BY started_utc DESC, seq DESC LIMIT ?"""


def expected_overhead(path: Path, lane: str, stage: str) -> float | None:
    """Seconds each pytest process of `stage` is expected to spend besides its tests
    (start-up, collection): the median of its newest `SPLIT_RUNS` measurements in `lane`,
    the overhead every part of a split pays; None when no run measured it."""
    if not path.exists():
        return None
    with database(path) as connection:
        rows = connection.execute(_RECENT_OVERHEADS, (lane, stage, SPLIT_RUNS)).fetchall()
    values = [float(seconds) for (seconds,) in rows]
    return median(values) if values else None
