"""The history store: every run and its stages' metrics, in one SQLite file.

Trends read it, the adaptive scheduler learns each stage's duration, CPU use and memory
from it, and `workflow history` lists it. Recording is best effort for a run: a damaged or
unreadable database is reported in one sentence and left exactly as it was, never
deleted or rewritten (`record_safely`), because losing a history must not fail a build.

History is optional and never delays the stages. A database another process holds locked
costs the scheduler's read at most READ_WAIT_S (then the plan goes without its hints, and
says so); recording the finished run waits at most WRITE_WAIT_S, saying that it waits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.history.profiles import RECENT_RUNS, StageProfile, profile_of
from orchestrator.history.schema import BUSY_TIMEOUT_S, HistoryError, connect
from orchestrator.model.files import make_own_directory
from orchestrator.model.run_order import utc_key
from orchestrator.model.writes import reason

if TYPE_CHECKING:
    from orchestrator.model.records import RunRecord

READ_WAIT_S = 0.25  # seconds the scheduler's read waits for a lock: hints are not worth more
WRITE_PROBE_S = 1.0  # the final write's first try, before it says that it waits
WRITE_WAIT_S = 10.0  # then at most this much longer

_INSERT_RUN = """INSERT INTO runs (
    run_id, started_at, started_utc, lane, runner_class, strategy, workers, exit_code,
    finished, duration_s, git_sha, git_branch, cpus, memory_bytes, python, record, seq
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

_INSERT_STAGE = """INSERT INTO stages (
    run_id, name, number, status, duration_s, cpu_seconds, cpu_percent, peak_rss_bytes,
    target_s
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
# Both queries list runs in `run_order`'s order: `started_utc` is its `utc_key`, `seq` the
# order of recording.
_PROFILE_SAMPLES = """SELECT s.name, s.duration_s, s.cpu_percent, s.peak_rss_bytes
    FROM stages AS s JOIN (
        SELECT run_id FROM runs WHERE lane = ? AND runner_class = ?
        ORDER BY started_utc DESC, seq DESC LIMIT ?
    ) AS r ON r.run_id = s.run_id
    WHERE s.status = 'passed'"""
_RUNS = "SELECT run_id, record FROM runs ORDER BY started_utc DESC, seq DESC"


class HistoryStore:
    """Runs recorded in a SQLite database; created with its schema on first write."""

    def __init__(self, path: Path, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            make_own_directory(self.path.parent)
            with closing(connect(self.path, self.timeout)) as connection:
                yield connection
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot use the history database: {exc}.") from exc
        except OSError as exc:
            why = reason(exc)
            raise HistoryError(f"{self.path}: cannot use the history database: {why}.") from exc

    def record_run(self, record: RunRecord) -> None:
        """Add a run, or replace the run with the same id (importing twice keeps one)."""
        self.record_runs([record])

    def record_runs(self, records: Iterable[RunRecord]) -> None:
        """Add runs in this order, all or none, each replacing the run with its id.

        Each new run gets the next `seq`, the order of recording that breaks ties
        between runs with the same start instant; a replaced run keeps its own.
        """
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for record in records:
                    _write_run(connection, record)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def recorded(self, run_ids: Iterable[str]) -> set[str]:
        """Which of `run_ids` the history already holds (reading never creates it)."""
        wanted = set(run_ids)
        if not self.path.exists() or not wanted:
            return set()
        query = "SELECT 1 FROM runs WHERE run_id = ?"
        with self._connection() as connection:
            return {i for i in wanted if connection.execute(query, (i,)).fetchone() is not None}

    def runs(self, last: int | None = None) -> list[RunRecord]:
        """Recorded runs, newest first (`run_order`); `last` keeps only that many."""
        if not self.path.exists():
            return []  # reading never creates the database
        query = _RUNS
        parameters: tuple[int, ...] = ()
        if last is not None:
            query += " LIMIT ?"
            parameters = (max(last, 0),)
        with self._connection() as connection:
            rows = connection.execute(query, parameters).fetchall()
        return [self._parse(run_id, text) for run_id, text in rows]

    def _parse(self, run_id: str, text: str) -> RunRecord:
        # The record module loads only to read whole runs back: a run reads the stage
        # profiles (plain rows) before its first stage starts and must not wait for it.
        # This module's one deferred import.
        from orchestrator.model.records import record_from_data  # noqa: PLC0415 - see above

        try:
            return record_from_data(json.loads(text))
        except ValueError as exc:  # a JSON error, or a record that does not validate
            raise HistoryError(
                f"{self.path}: run {run_id}: the stored record is not a run record: {exc}."
            ) from exc

    def stage_profiles(
        self, lane: str, runner_class: str, recent: int = RECENT_RUNS
    ) -> dict[str, StageProfile]:
        """Median duration, CPU % and peak memory of each stage's passed runs, recent first.

        Only runs of this lane on this runner class count: another machine's timings
        would mislead the scheduler more than having none.
        """
        if not self.path.exists():
            return {}
        with self._connection() as connection:
            rows = connection.execute(_PROFILE_SAMPLES, (lane, runner_class, recent)).fetchall()
        samples: dict[str, list[tuple[float, float, int]]] = {}
        for name, duration, cpu, rss in rows:
            samples.setdefault(name, []).append((float(duration), float(cpu), int(rss)))
        return {name: profile_of(values) for name, values in samples.items()}


def _write_run(connection: sqlite3.Connection, record: RunRecord) -> None:
    seq = _recording_seq(connection, record.run_id)
    connection.execute("DELETE FROM runs WHERE run_id = ?", (record.run_id,))
    connection.execute(_INSERT_RUN, (*_run_row(record), seq))
    connection.executemany(
        _INSERT_STAGE,
        [
            (
                record.run_id,
                stage.name,
                stage.number,
                # A reused pass took no time here: "cached" keeps it out of the profiles
                # the scheduler reads (they count 'passed' rows).
                "cached" if stage.cache_hit else stage.status.value,
                stage.duration_s,
                stage.cpu_seconds,
                stage.cpu_percent,
                stage.peak_rss_bytes,
                stage.sla.target_s,
            )
            for stage in record.stages
        ],
    )


def _recording_seq(connection: sqlite3.Connection, run_id: str) -> int:
    """The run's place in recording order: its own when recorded again, else the next."""
    row = connection.execute("SELECT seq FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        row = connection.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()
    return int(row[0])


def _run_row(record: RunRecord) -> tuple[object, ...]:
    return (
        record.run_id,
        record.started_at,
        utc_key(record.started_at),
        record.lane,
        record.host.runner_class,
        record.strategy,
        record.workers,
        record.exit_code,
        int(record.finished),
        record.pool.total_duration_s,
        record.git.sha,
        record.git.branch,
        record.host.cpus,
        record.host.memory_bytes,
        record.host.python,
        json.dumps(record.to_dict(), sort_keys=True),
    )


def record_safely(
    path: Path, record: RunRecord, on_wait: Callable[[str], None] | None = None
) -> str | None:
    """Record the run; on any problem return one sentence why, and touch nothing else.

    A database locked by another process gets WRITE_PROBE_S, then `on_wait` hears that
    the run waits, then WRITE_WAIT_S more at most.
    """
    try:
        try:
            HistoryStore(path, WRITE_PROBE_S).record_run(record)
        except HistoryError as exc:
            if not _locked(exc):
                raise
            if on_wait is not None:
                on_wait(
                    f"the history database {path} is locked by another process; "
                    f"waiting up to {WRITE_WAIT_S:g}s to record this run"
                )
            HistoryStore(path, WRITE_WAIT_S).record_run(record)
    except HistoryError as exc:
        return f"history not written: {exc.message.rstrip('.')} (left untouched)."
    except Exception as exc:  # a broken history must never fail the run it describes
        return f"history not written: {path}: {type(exc).__name__}: {exc} (left untouched)."
    return None


def profiles_safely(
    path: Path,
    lane: str,
    runner_class: str,
    on_problem: Callable[[str], None] | None = None,
) -> dict[str, StageProfile]:
    """What history knows about each stage, or nothing when it cannot be read.

    A locked database is given READ_WAIT_S, and `on_problem` hears that it was skipped
    (any other problem is said once, by `record_safely` at the end of the run).
    """
    try:
        return HistoryStore(path, READ_WAIT_S).stage_profiles(lane, runner_class)
    except HistoryError as exc:
        if on_problem is not None and _locked(exc):
            on_problem(
                f"history not read: {path} is locked by another process; "
                "the plan goes without its timings."
            )
        return {}
    except Exception:  # a hint for the scheduler; without it the plan uses other sources
        return {}


def _locked(exc: HistoryError) -> bool:
    cause = exc.__cause__
    text = str(cause).lower()
    return isinstance(cause, sqlite3.OperationalError) and ("locked" in text or "busy" in text)
