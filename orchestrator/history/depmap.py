"""Each stage's dependency map in the history database (schema 6, `history/schema.py`).

The map is the newest knowledge, not a log: one row per known test (its outcome, the run
it comes from, its two piece sets, why it is opaque), one baseline per stage. A piece
version is stored once and named by an integer; a set of them is stored once (sorted
ids, delta-encoded, compressed) and shared by every test with the same set, so tests of
one file, which mostly import the same modules, share their import set: a 10,000-test
suite's map stays a few megabytes (bench/bench_select.py measures it). Sets and
versions that no test row uses any more are removed when a map is saved.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from orchestrator.history.schema import database
from orchestrator.model.selection import DepMap, PieceVersion, TestEntry
from orchestrator.model.selectrules import Baseline, baseline_from_data

_CHUNK = 500  # bound parameters per statement
SOURCES_KEPT = 20_000  # parsed file contents remembered (oldest forgotten first)


@dataclass(frozen=True)
class StoredMap:
    """A stage's map, its baseline (None until a complete run was learned), and why the
    last run could not learn (None when it could)."""

    depmap: DepMap
    baseline: Baseline | None
    problem: str | None


@dataclass(frozen=True)
class LearnedTest:
    """A test that ran: how it ended, what it ran and read, what its imports ran."""

    __test__ = False

    outcome: str  # "passed" or "failed"
    code: frozenset[PieceVersion]
    imports: frozenset[PieceVersion]
    opaque: str | None = None


@dataclass(frozen=True)
class MapUpdate:
    """What one run adds to a stage's map.

    `learned`: tests whose dependencies were measured; `outcomes`: tests that ran without
    being measured (only a failure is kept: it makes the test run next time);
    `collected` and `baseline` only when the run was complete: tests no longer collected
    leave the map, and the baseline moves to this run's.
    """

    run_id: str
    learned: Mapping[str, LearnedTest]
    outcomes: Mapping[str, str]
    collected: frozenset[str] | None
    baseline: Baseline | None
    problem: str | None


def encode(members: Iterable[int]) -> bytes:
    """A set of ids as a compact blob: sorted, delta-encoded, zlib-compressed."""
    ordered = sorted(set(members))
    deltas = array("I", (b - a for a, b in zip([0, *ordered], ordered, strict=False)))
    return zlib.compress(deltas.tobytes(), 6)


def decode(blob: bytes) -> frozenset[int]:
    """The ids `encode` stored."""
    deltas = array("I")
    deltas.frombytes(zlib.decompress(blob))
    total = 0
    found = []
    for delta in deltas:
        total += delta
        found.append(total)
    return frozenset(found)


def load_map(path: Path, stage: str) -> StoredMap | None:
    """The stage's map, or None when the history holds none (reading never creates it).

    Raises HistoryError for a database that cannot be used.
    """
    if not path.exists():
        return None
    with database(path) as connection:
        state = connection.execute(
            "SELECT baseline, problem FROM select_state WHERE stage = ?", (stage,)
        ).fetchone()
        rows = connection.execute(
            "SELECT test_id, outcome, run_id, code_set, import_set, opaque FROM select_tests"
            " WHERE stage = ?",
            (stage,),
        ).fetchall()
        if state is None and not rows:
            return None
        tests = {
            str(t): TestEntry(str(o), str(r), (int(c), int(i)), op) for t, o, r, c, i, op in rows
        }
        wanted = sorted({sid for entry in tests.values() for sid in entry.sets})
        sets = {sid: decode(blob) for sid, blob in _by_ids(connection, "select_sets", wanted)}
        ids = sorted(set().union(*sets.values())) if sets else []
        versions = {
            vid: PieceVersion(p, n, f) for vid, p, n, f in _by_ids(connection, "versions", ids)
        }
    baseline = None
    if state is not None and state[0] is not None:
        try:
            baseline = baseline_from_data(json.loads(zlib.decompress(state[0])))
        except (ValueError, zlib.error):
            baseline = None  # a damaged baseline: every test runs, and a new one is learned
    problem = None if state is None else state[1]
    return StoredMap(DepMap(versions, sets, tests), baseline, problem)


_SOURCES = "SELECT key, pieces FROM select_sources WHERE key IN ({})"
_QUERIES = {
    "select_sets": "SELECT set_id, members FROM select_sets WHERE set_id IN ({})",
    "versions": "SELECT version, path, name, fingerprint FROM select_versions"
    " WHERE version IN ({})",
}


def _by_ids(connection: sqlite3.Connection, what: str, ids: list[int]) -> Iterator[tuple]:  # type: ignore[type-arg]
    iterator = iter(ids)
    while chunk := list(islice(iterator, _CHUNK)):
        yield from connection.execute(_QUERIES[what].format(", ".join("?" * len(chunk))), chunk)


def save_map(path: Path, stage: str, update: MapUpdate) -> None:
    """Merge one run's knowledge into the stage's map, all or none; then forget the sets
    and versions no test uses. Raises HistoryError."""
    with database(path) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            _merge(connection, stage, update)
            _collect_garbage(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


def _merge(connection: sqlite3.Connection, stage: str, update: MapUpdate) -> None:
    groups = {t.code for t in update.learned.values()} | {
        t.imports for t in update.learned.values()
    }
    versions = _version_ids(connection, set().union(*groups) if groups else set())
    interned: dict[frozenset[PieceVersion], int] = {}
    rows = []
    for test, learned in update.learned.items():
        code = _set_id(connection, learned.code, versions, interned)
        imports = _set_id(connection, learned.imports, versions, interned)
        rows.append((stage, test, learned.outcome, update.run_id, code, imports, learned.opaque))
    connection.executemany("INSERT OR REPLACE INTO select_tests VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    failed = [
        (update.run_id, stage, test)
        for test, outcome in update.outcomes.items()
        if outcome != "passed" and test not in update.learned
    ]
    connection.executemany(
        "UPDATE select_tests SET outcome = 'failed', run_id = ? WHERE stage = ? AND test_id = ?",
        failed,
    )
    if update.collected is not None:
        known = [
            t
            for (t,) in connection.execute(
                "SELECT test_id FROM select_tests WHERE stage = ?", (stage,)
            )
        ]
        gone = [(stage, t) for t in known if t not in update.collected]
        connection.executemany("DELETE FROM select_tests WHERE stage = ? AND test_id = ?", gone)
    _save_state(connection, stage, update)


def _save_state(connection: sqlite3.Connection, stage: str, update: MapUpdate) -> None:
    old = connection.execute(
        "SELECT run_id, baseline FROM select_state WHERE stage = ?", (stage,)
    ).fetchone()
    run_id, blob = (old[0], old[1]) if old is not None else (None, None)
    if update.baseline is not None:
        text = json.dumps(update.baseline.to_data(), sort_keys=True)
        run_id, blob = update.run_id, zlib.compress(text.encode("utf-8"), 6)
    connection.execute(
        "INSERT OR REPLACE INTO select_state VALUES (?, ?, ?, ?)",
        (stage, run_id, blob, update.problem),
    )


def _version_ids(
    connection: sqlite3.Connection, versions: set[PieceVersion]
) -> dict[PieceVersion, int]:
    connection.executemany(
        "INSERT OR IGNORE INTO select_versions (path, name, fingerprint) VALUES (?, ?, ?)",
        ((v.path, v.name, v.fingerprint) for v in versions),
    )
    found: dict[PieceVersion, int] = {}
    for path in {v.path for v in versions}:
        for vid, name, fingerprint in connection.execute(
            "SELECT version, name, fingerprint FROM select_versions WHERE path = ?", (path,)
        ):
            found[PieceVersion(path, name, fingerprint)] = int(vid)
    return {v: found[v] for v in versions}


def _set_id(
    connection: sqlite3.Connection,
    members: frozenset[PieceVersion],
    versions: Mapping[PieceVersion, int],
    interned: dict[frozenset[PieceVersion], int],
) -> int:
    known = interned.get(members)
    if known is not None:
        return known
    blob = encode(versions[v] for v in members)
    digest = hashlib.sha1(blob, usedforsecurity=False).hexdigest()
    connection.execute(
        "INSERT OR IGNORE INTO select_sets (digest, members) VALUES (?, ?)", (digest, blob)
    )
    (sid,) = connection.execute(
        "SELECT set_id FROM select_sets WHERE digest = ?", (digest,)
    ).fetchone()
    interned[members] = int(sid)
    return int(sid)


def _collect_garbage(connection: sqlite3.Connection) -> None:
    connection.execute(
        """DELETE FROM select_sets WHERE set_id NOT IN (
            SELECT code_set FROM select_tests UNION SELECT import_set FROM select_tests)"""
    )
    used: set[int] = set()
    for (blob,) in connection.execute("SELECT members FROM select_sets"):
        used |= decode(blob)
    stored = [vid for (vid,) in connection.execute("SELECT version FROM select_versions")]
    unused = [(vid,) for vid in stored if vid not in used]
    connection.executemany("DELETE FROM select_versions WHERE version = ?", unused)


def known_sources(path: Path, keys: Iterable[str]) -> dict[str, str]:
    """Fingerprints already made of file contents (key -> JSON text), when the history
    has them; {} without a database."""
    wanted = sorted(set(keys))
    if not path.exists() or not wanted:
        return {}
    found: dict[str, str] = {}
    with database(path) as connection:
        iterator = iter(wanted)
        while chunk := list(islice(iterator, _CHUNK)):
            marks = ", ".join("?" * len(chunk))
            found.update(
                connection.execute(
                    _SOURCES.format(marks),
                    chunk,
                ).fetchall()
            )
    return found


def remember_sources(path: Path, sources: Mapping[str, str]) -> None:
    """Keep fingerprints made of file contents (key -> JSON text), the newest
    `SOURCES_KEPT`."""
    if not sources:
        return
    with database(path) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR IGNORE INTO select_sources (key, pieces) VALUES (?, ?)",
                sorted(sources.items()),
            )
            connection.execute(
                "DELETE FROM select_sources WHERE source <= "
                "(SELECT MAX(source) FROM select_sources) - ?",
                (SOURCES_KEPT,),
            )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
