"""The history database's connection settings and schema migrations.

Many writers at once (parallel CI jobs importing records, a nightly run) share one file:
WAL mode lets readers and one writer proceed together, and the busy timeout makes a
writer wait for the lock instead of failing. How long depends on who asks: the
scheduler's read for hints must never hold up the first stage, while recording a finished
run may wait a while (history.py chooses; BUSY_TIMEOUT_S is for commands about history).
Writes take the lock up front (`BEGIN IMMEDIATE`): a read transaction upgraded to a
write in WAL mode fails at once with "database is locked", whatever the timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from orchestrator.model.errors import RecordError
from orchestrator.model.writes import reason

BUSY_TIMEOUT_S = 60.0
_WAL_ATTEMPTS = 50

# Each entry upgrades the schema by one version; never edit one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            started_utc TEXT NOT NULL,
            lane TEXT NOT NULL,
            runner_class TEXT NOT NULL,
            strategy TEXT NOT NULL,
            workers INTEGER NOT NULL,
            exit_code INTEGER,
            finished INTEGER NOT NULL,
            duration_s REAL NOT NULL,
            git_sha TEXT,
            git_branch TEXT,
            cpus REAL NOT NULL,
            memory_bytes INTEGER NOT NULL,
            python TEXT NOT NULL,
            record TEXT NOT NULL
        )""",
        "CREATE INDEX runs_by_time ON runs (started_utc, run_id)",
        "CREATE INDEX runs_by_group ON runs (lane, runner_class, started_utc)",
        """CREATE TABLE stages (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            number INTEGER NOT NULL,
            status TEXT NOT NULL,
            duration_s REAL NOT NULL,
            cpu_seconds REAL NOT NULL,
            cpu_percent REAL NOT NULL,
            peak_rss_bytes INTEGER NOT NULL,
            target_s REAL,
            PRIMARY KEY (run_id, name)
        )""",
    ),
    # 2: `seq`, the order of recording, breaks ties between runs with the same start
    # instant (see orchestrator/model/run_order.py). Rows already there are numbered in the
    # order they were listed in until now: by start time, then run id.
    (
        "ALTER TABLE runs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "CREATE TEMP TABLE run_seq (run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
        """INSERT INTO temp.run_seq (run_id, seq)
            SELECT run_id, ROW_NUMBER() OVER (ORDER BY started_utc, run_id) FROM runs""",
        "UPDATE runs SET seq = (SELECT seq FROM temp.run_seq WHERE run_seq.run_id = runs.run_id)",
        "DROP TABLE temp.run_seq",
        # A start time that could not be read was stored as it was; it now sorts first,
        # as `run_order.utc_key` writes it.
        """UPDATE runs SET started_utc = '0001-01-01T00:00:00.000000+00:00'
            WHERE started_utc NOT LIKE '____-__-__T__:__:__.______+00:00'""",
        "DROP INDEX runs_by_time",
        "DROP INDEX runs_by_group",
        "CREATE INDEX runs_in_order ON runs (started_utc, seq)",
        "CREATE INDEX runs_by_group_in_order ON runs (lane, runner_class, started_utc, seq)",
    ),
    # 3: every test's outcome and duration (history/tests.py), keyed by what the stage's
    # results depend on (`inputs_key`: the cache key, else the commit of a clean tree).
    (
        """CREATE TABLE test_results (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            test_id TEXT NOT NULL,
            outcome TEXT NOT NULL,
            duration_s REAL NOT NULL,
            inputs_key TEXT,
            PRIMARY KEY (run_id, stage, test_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX test_results_by_test ON test_results (stage, test_id)",
    ),
    # 4: the same rows in a tenth of the space (10,000 tests x 100 kept runs went from
    # about 380 MB to about 30, bench/bench_test_history.py): each test id is stored once
    # (`test_ids`), each stage run once with its inputs key (`test_runs`), and a result row
    # holds two small integers, its outcome and duration. No index or foreign key by test
    # key: history/testprune.py says why. `test_results` stays as a view with its old
    # columns, for the queries and for anyone reading the file.
    (
        """CREATE TABLE test_ids (
            test_key INTEGER PRIMARY KEY,
            stage TEXT NOT NULL,
            test_id TEXT NOT NULL,
            UNIQUE (stage, test_id)
        )""",
        """CREATE TABLE test_runs (
            test_run INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            inputs_key TEXT,
            UNIQUE (run_id, stage)
        )""",
        """CREATE TABLE test_outcomes (
            test_run INTEGER NOT NULL REFERENCES test_runs (test_run) ON DELETE CASCADE,
            test_key INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            duration_s REAL NOT NULL,
            PRIMARY KEY (test_run, test_key)
        ) WITHOUT ROWID""",
        "INSERT INTO test_ids (stage, test_id) SELECT DISTINCT stage, test_id FROM test_results",
        """INSERT INTO test_runs (run_id, stage, inputs_key)
            SELECT run_id, stage, MAX(inputs_key) FROM test_results GROUP BY run_id, stage""",
        """INSERT INTO test_outcomes (test_run, test_key, outcome, duration_s)
            SELECT r.test_run, i.test_key, t.outcome, t.duration_s FROM test_results AS t
            JOIN test_runs AS r ON r.run_id = t.run_id AND r.stage = t.stage
            JOIN test_ids AS i ON i.stage = t.stage AND i.test_id = t.test_id""",
        "DROP TABLE test_results",
        """CREATE VIEW test_results AS
            SELECT r.run_id, r.stage, i.test_id, o.outcome, o.duration_s, r.inputs_key
            FROM test_outcomes AS o JOIN test_runs AS r USING (test_run)
            JOIN test_ids AS i USING (test_key)""",
    ),
    # 5: what each pytest process of a stage run spent besides its tests (start-up,
    # collection): the overhead every part of a split pays. A split run's stage wall time
    # says nothing about one process, so it is measured per part when the run is recorded
    # (pipeline/testrows.py); NULL where it is not known (rows from before, reruns).
    ("ALTER TABLE test_runs ADD COLUMN overhead_s REAL",),
    # 6: test selection's dependency maps (history/depmap.py): the current map of each
    # stage, not one per run. A piece version (a file's function, class or module body,
    # or a read file, with its fingerprint) is stored once; the sets of them that tests
    # depend on are interned as compressed blobs; each test row names two sets (what it
    # ran, and what its imports ran). `select_state` keeps each stage's baseline (what
    # the map was learned against); `select_sources` the fingerprints of file contents
    # already parsed, so a run parses only what changed.
    (
        """CREATE TABLE select_versions (
            version INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            UNIQUE (path, name, fingerprint)
        )""",
        """CREATE TABLE select_sets (
            set_id INTEGER PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            members BLOB NOT NULL
        )""",
        """CREATE TABLE select_tests (
            stage TEXT NOT NULL,
            test_id TEXT NOT NULL,
            outcome TEXT NOT NULL,
            run_id TEXT NOT NULL,
            code_set INTEGER NOT NULL,
            import_set INTEGER NOT NULL,
            opaque TEXT,
            PRIMARY KEY (stage, test_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE select_state (
            stage TEXT PRIMARY KEY,
            run_id TEXT,
            baseline BLOB,
            problem TEXT
        )""",
        """CREATE TABLE select_sources (
            source INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            pieces TEXT NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(RecordError):
    """The history database cannot be used (corrupt, unreadable, foreign or too new)."""


def connect(path: Path, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open the database in WAL mode, waiting at most `timeout` seconds for each lock,
    its schema up to date. Raises sqlite3.Error ("database is locked") past that."""
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        _version(connection, path)  # refuse a foreign or newer file before writing anything
        _use_wal(connection)
        connection.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL mode
        migrate(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    # Switching the journal mode needs the database to itself; when several processes
    # create the file at once, the losers are told "locked" without the busy handler.
    for _ in range(_WAL_ATTEMPTS):
        try:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.05)
    connection.execute("PRAGMA journal_mode = WAL")


def _version(connection: sqlite3.Connection, path: Path) -> int | None:
    """The schema version, or None for an empty database; refuses a foreign one."""
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if "schema_version" not in tables:
        if tables:
            raise HistoryError(
                f"{path}: not a workflow history database (it has other tables); "
                "point [workflow] history at another file."
            )
        return None
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    version = int(row[0]) if row is not None else 0
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: history schema {version} was written by a newer workflow "
            f"(this one knows up to {SCHEMA_VERSION}); upgrade workflow to use it."
        )
    return version


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Create the schema, or bring an older one up to date, in one transaction."""
    if _version(connection, path) == SCHEMA_VERSION:
        return  # the common case: no write lock needed
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = _version(connection, path)  # another process may have migrated meanwhile
        if version is None:
            connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            connection.execute("INSERT INTO schema_version (version) VALUES (0)")
            version = 0
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                connection.execute(statement)
        connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


@contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    """The history database at `path` (its directory made), closed afterwards; sqlite's and
    the system's errors become one sentence: HistoryError naming the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(connect(path)) as connection:
            yield connection
    except (sqlite3.Error, OSError) as exc:
        why = reason(exc) if isinstance(exc, OSError) else str(exc)
        raise HistoryError(f"{path}: cannot use the history database: {why}.") from exc
