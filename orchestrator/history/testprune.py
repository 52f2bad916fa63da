"""Removing per-test rows: stage runs past the retention, and the test ids nothing uses.

`test_outcomes` has no index by test key (at 10,000 tests x 100 runs it cost more write
time and space than the rows it indexes, bench/bench_test_history.py), and for the same
reason no foreign key to `test_ids`: deleting an id would scan every outcome. So an id is
removed here only when it was used by a stage run that is gone and is used by no kept
one. A stable suite has no such candidates (the new run uses every id the pruned run
used) and costs nothing here; a suite whose ids change every run (generated parameters)
pays one pass over the kept outcomes per run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from itertools import islice

_CHUNK = 500  # bound parameters per statement, well under SQLite's limit

_KEYS_OF_RUNS = "SELECT DISTINCT test_key FROM test_outcomes WHERE test_run IN ({})"
_DROP_RUNS = "DELETE FROM test_runs WHERE test_run IN ({})"  # their outcomes cascade
_CANDIDATES = "CREATE TEMP TABLE IF NOT EXISTS unused_keys (test_key INTEGER PRIMARY KEY)"
# One pass over the outcomes, each row's key looked up among the candidates.
_STILL_USED = """DELETE FROM temp.unused_keys WHERE test_key IN (
    SELECT test_key FROM test_outcomes WHERE test_key IN temp.unused_keys)"""
_DROP_IDS = "DELETE FROM test_ids WHERE test_key IN temp.unused_keys"


def drop_test_runs(connection: sqlite3.Connection, test_runs: Sequence[int]) -> set[int]:
    """Delete these stage runs and their outcomes; the test keys they used."""
    keys: set[int] = set()
    for chunk in _chunks(test_runs):
        marks = ", ".join("?" * len(chunk))
        keys.update(k for (k,) in connection.execute(_KEYS_OF_RUNS.format(marks), chunk))
        connection.execute(_DROP_RUNS.format(marks), chunk)
    return keys


def drop_unused_ids(connection: sqlite3.Connection, candidates: Iterable[int]) -> None:
    """Delete the ids among `candidates` (test keys) that no outcome row uses any more."""
    keys = list(candidates)
    if not keys:
        return
    connection.execute(_CANDIDATES)
    connection.execute("DELETE FROM temp.unused_keys")
    connection.executemany(
        "INSERT OR IGNORE INTO temp.unused_keys VALUES (?)", ((k,) for k in keys)
    )
    connection.execute(_STILL_USED)
    connection.execute(_DROP_IDS)
    connection.execute("DELETE FROM temp.unused_keys")


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk
