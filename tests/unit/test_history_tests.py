"""Per-test rows in the real SQLite history: recording, pruning, and finding flaky tests.

The runs are synthetic records, but every row goes through the real store and the real
queries. The seeded flaky test is driven by a seed file (never by time), so the same
seed gives the same outcomes on every machine.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.history import tests as history_tests
from orchestrator.history.store import HistoryStore
from orchestrator.history.tests import ResultRow, expected_overhead, flaky_tests, record_tests
from orchestrator.model.records import RunRecord, StageCache
from tests.helpers.trends_data import run, stage


def recorded(db: Path, index: int, rows: list[ResultRow], lane: str = "heavy") -> RunRecord:
    record = run(index, [stage("unit", 10.0)], lane=lane)
    HistoryStore(db).record_run(record)
    record_tests(db, record.run_id, record.lane, rows)
    return record


def rows_of(db: Path) -> list[tuple[str, str, str, str, float, str | None]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT run_id, stage, test_id, outcome, duration_s, inputs_key FROM test_results"
            " ORDER BY run_id, test_id"
        ).fetchall()


def test_every_test_is_kept_with_its_outcome_duration_and_key(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    rows = [
        ResultRow("unit", "t.py::a", "passed", 0.5, "commit abc"),
        ResultRow("unit", "t.py::b", "flaky", 1.25, "commit abc"),
    ]
    record = recorded(db, 0, rows)
    record_tests(db, record.run_id, record.lane, rows)  # recorded again: still one row each
    assert rows_of(db) == [(record.run_id, *row) for row in rows]


def test_a_stages_process_overhead_is_the_median_of_its_newest_three(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    assert expected_overhead(db, "heavy", "unit") is None
    row = [ResultRow("unit", "t.py::a", "passed", 0.5, None)]
    for index, overhead in enumerate([9.0, 2.0, None, 4.0, 3.0]):
        made = run(index, [stage("unit", 10.0)])
        HistoryStore(db).record_run(made)
        known = {"unit": overhead} if overhead is not None else None
        record_tests(db, made.run_id, made.lane, row, known)
    assert expected_overhead(db, "heavy", "unit") == 3.0  # of 2, 4 and 3: a run without one
    assert expected_overhead(db, "docs", "unit") is None  # is skipped; other lanes are apart
    assert expected_overhead(db, "heavy", "lint") is None


def test_a_tests_expected_time_is_its_own_newest_three_runs(tmp_path: Path) -> None:
    # Three runs that stopped early (a file that could not be collected) knew only one
    # test: the others keep the times of their own newest runs.
    db = tmp_path / "h.db"
    whole = [ResultRow("unit", f"t.py::t{i}", "passed", 1.0 + i, None) for i in range(3)]
    early = [ResultRow("unit", "t.py::broken", "error", 0.1, None)]
    for index, rows in enumerate([whole, whole, whole, early, early, early]):
        recorded(db, index, [r._replace(duration_s=r.duration_s + index) for r in rows])
    expected = history_tests.expected_test_durations(db, "heavy", "unit")
    assert expected == {"t.py::t0": 2.0, "t.py::t1": 3.0, "t.py::t2": 4.0, "t.py::broken": 4.1}


def test_rows_past_the_newest_runs_of_a_lane_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_tests, "KEEP_RUNS", 3)
    db = tmp_path / "h.db"
    row = [ResultRow("unit", "t.py::a", "passed", 0.5, None)]
    heavy = [recorded(db, i, row) for i in range(5)]
    docs = recorded(db, 5, row, lane="docs")
    kept = {r[0] for r in rows_of(db)}
    assert kept == {r.run_id for r in heavy[2:]} | {docs.run_id}
    assert len(HistoryStore(db).runs()) == 6  # the runs themselves stay


def seeded_outcome(seed_file: Path, run_index: int) -> str:
    """The seeded flaky test: fails about 1 run in 10, decided by the seed in the file."""
    seed = int(seed_file.read_text())
    # A seeded draw for a test, not a secret (bandit's B311 is about secrets).
    draw = random.Random(seed * 1000 + run_index).random()  # nosec B311
    return "failed" if draw < 0.1 else "passed"


def test_a_seeded_flaky_test_is_named_within_ten_runs(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    seed_file = tmp_path / "seed"
    seed_file.write_text("6\n")
    rate = [seeded_outcome(seed_file, i) for i in range(2000)].count("failed") / 2000
    assert 0.08 <= rate <= 0.12  # about one run in ten
    outcomes = [seeded_outcome(seed_file, i) for i in range(10)]
    assert outcomes.count("failed") == 1  # this seed fails once in its first ten runs
    for index, outcome in enumerate(outcomes):
        stable = [ResultRow("unit", f"t.py::s{i}", "passed", 0.01, "commit c0") for i in range(20)]
        recorded(
            db, index, [*stable, ResultRow("unit", "t.py::seeded", outcome, 0.02, "commit c0")]
        )
    found = flaky_tests(db, last=10)
    assert [(f.test_id, f.passed, f.failed) for f in found] == [
        ("t.py::seeded", outcomes.count("passed"), outcomes.count("failed"))
    ]
    assert found[0].runs == 10 and found[0].inputs == 1


def test_across_fifty_runs_no_stable_test_is_ever_called_flaky(tmp_path: Path) -> None:
    """200 stable tests over 50 runs on changing commits, with the noise real histories
    have: broken environments where most tests fail, a dirty tree whose edits broke
    tests (no key), and genuine regressions fixed by a later commit."""
    db = tmp_path / "h.db"
    tests = [f"tests/t{i // 20}.py::test_{i}" for i in range(200)]
    for index in range(50):
        commit = f"commit {index // 5:040x}"  # five runs per commit
        outcome = {t: "passed" for t in tests}
        key: str | None = commit
        if index % 11 == 3:  # a broken environment: everything errors
            outcome = dict.fromkeys(tests, "error")
        elif index % 11 == 7:  # most tests fail, a few pass: still a broken environment
            outcome = {t: "failed" if i % 10 else "passed" for i, t in enumerate(tests)}
        elif index % 13 == 5:  # uncommitted edits broke some tests: the inputs are unknown
            outcome.update({t: "failed" for t in tests[:30]})
            key = None
        elif 20 <= index < 25:  # a real regression on one commit (every run fails)
            outcome.update({t: "failed" for t in tests[40:45]})
        recorded(db, index, [ResultRow("unit", t, o, 0.01, key) for t, o in outcome.items()])
        assert flaky_tests(db, last=50) == [], f"a stable test was called flaky after run {index}"


def test_a_broken_environment_is_no_evidence_but_a_healthy_flip_is(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    tests = [f"t.py::{i}" for i in range(10)]
    recorded(db, 0, [ResultRow("unit", t, "passed", 0.1, "k") for t in tests])
    recorded(db, 1, [ResultRow("unit", t, "failed", 0.1, "k") for t in tests])
    assert flaky_tests(db, last=10) == []
    one_fails = [
        ResultRow("unit", t, "failed" if t == tests[0] else "passed", 0.1, "k") for t in tests
    ]
    recorded(db, 2, one_fails)
    assert [f.test_id for f in flaky_tests(db, last=10)] == [tests[0]]
    assert flaky_tests(db, last=1) == []  # one run alone flips nothing


def test_a_flip_within_one_run_counts_on_its_own(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    recorded(
        db,
        0,
        [
            ResultRow("unit", "t.py::a", "flaky", 0.1, "k"),
            ResultRow("unit", "t.py::b", "passed", 0.1, "k"),
        ],
    )
    [found] = flaky_tests(db, last=5)
    assert (found.test_id, found.passed, found.failed, found.flipped) == ("t.py::a", 1, 1, 1)


def test_reading_never_creates_the_database(tmp_path: Path) -> None:
    assert flaky_tests(tmp_path / "none.db", last=5) == []
    assert not (tmp_path / "none.db").exists()


def test_a_record_with_tests_round_trips_through_the_store(tmp_path: Path) -> None:
    from orchestrator.model.testresults import Outcome, TestCase, summarize

    summary = summarize([TestCase("t.py::a", Outcome.FAILED, 1.0, "t.py", 3, "boom")])
    record = run(
        0, [replace(stage("unit", 1.0), tests=summary, cache=StageCache(hit=False, key="cache-1"))]
    )
    HistoryStore(tmp_path / "h.db").record_run(record)
    assert HistoryStore(tmp_path / "h.db").runs() == [record]
