"""The one order of runs: start instants to the microsecond, ties by order of recording."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import run_cli
from orchestrator.configfile.load import load_config
from orchestrator.engine.scheduling.sizing import Machine
from orchestrator.history.store import HistoryStore
from orchestrator.model.records import RunRecord
from orchestrator.model.run_order import (
    EARLIEST,
    newest_first,
    runs_oldest_first,
    started_at_problem,
    started_instant,
    started_text,
    utc_key,
)
from orchestrator.pipeline.plan import PlanOptions, build_plan
from orchestrator.pipeline.request import RunRequest
from orchestrator.pipeline.run import new_run_id, start_run
from tests.helpers.trends_data import RUNNER, run, stage

MACHINE = Machine(affinity_cpus=2, quota_cpus=None, memory_available=8 * 2**30, memory_total=2**34)
TEN = 10
REPETITIONS = 20


def test_started_at_has_microseconds_and_an_explicit_utc_offset() -> None:
    moment = datetime(2026, 11, 30, 16, 8, 12, 7, tzinfo=UTC)
    assert started_text(moment) == "2026-11-30T16:08:12.000007+00:00"
    east = moment.astimezone(timezone(timedelta(hours=2)))
    assert started_text(east) == "2026-11-30T16:08:12.000007+00:00"


def test_run_ids_carry_the_microsecond_and_sort_with_time() -> None:
    first = datetime(2026, 11, 30, 16, 8, 12, 999_999, tzinfo=UTC)
    ids = [new_run_id(first + timedelta(microseconds=step)) for step in range(3)]
    assert ids[0].startswith("20261130T160812.999999Z-")
    assert ids[1].startswith("20261130T160813.000000Z-")
    assert sorted(ids) == ids


def test_start_times_compare_as_instants_not_as_text() -> None:
    whole = "2026-03-01T12:00:07+00:00"  # as older workflow wrote it
    same_elsewhere = "2026-03-01T14:00:07+02:00"
    later = "2026-03-01T12:00:07.000001+00:00"
    assert started_instant(whole) == started_instant(same_elsewhere)
    assert started_instant(later) > started_instant(same_elsewhere)
    assert same_elsewhere > later  # as text the order would be wrong
    assert started_instant("2026-03-01T12:00:07") == started_instant(whole)  # no offset: UTC
    assert started_instant("yesterday") == EARLIEST
    assert started_instant("0001-01-01T00:00:00+05:00") == EARLIEST  # before year 1 in UTC
    assert utc_key(same_elsewhere) == "2026-03-01T12:00:07.000000+00:00"
    assert len({len(utc_key(text)) for text in (whole, later, "yesterday")}) == 1


def test_same_instant_keeps_the_given_order_newest_recorded_first() -> None:
    items = [
        ("a", "2026-03-01T12:00:07+00:00"),
        ("b", "2026-03-01T12:00:08+00:00"),
        ("c", "2026-03-01T13:00:07+01:00"),
        ("d", "2026-03-01T12:00:06.5+00:00"),
    ]
    ordered = newest_first(items, lambda item: item[1])
    assert [name for name, _ in ordered] == ["b", "a", "c", "d"]


def test_started_at_problems_name_what_is_missing() -> None:
    assert started_at_problem("2026-03-01T12:00:07+00:00") is None
    assert started_at_problem("2026-03-01T12:00:07.123-05:00") is None
    assert "not an ISO 8601 time" in (started_at_problem("yesterday") or "")
    assert "no UTC offset" in (started_at_problem("2026-03-01T12:00:07") or "")


@pytest.fixture
def request_for(tmp_path: Path) -> RunRequest:
    """A real run request for a one-stage project whose history lives in `h.db`."""
    config = tmp_path / "workflow.toml"
    config.write_text(
        '[workflow]\nhistory = "h.db"\n[stages.unit]\nrun = ["true"]\n'
        "[trend]\nrecent = 3\nbaseline = 7\n"
    )
    loaded = load_config(config)
    plan = build_plan(loaded, PlanOptions(), MACHINE)
    return RunRequest(loaded=loaded, plan=plan, report_dir=tmp_path / "reports")


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """The real command line, in this process; its JSON output."""
    capsys.readouterr()
    assert run_cli(list(args)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def whole_seconds(record: RunRecord, index: int) -> RunRecord:
    """The record as a workflow that wrote whole seconds would have: many share one.

    Its run id, like theirs, is the second and a random part, which must not decide
    (`index` only keeps the ten ids apart).
    """
    moment = datetime.fromisoformat(record.started_at).replace(microsecond=0)
    random_part = record.run_id.rsplit("-", 1)[1]
    return replace(
        record,
        run_id=f"{moment:%Y%m%dT%H%M%SZ}-{random_part}{index}",
        started_at=moment.isoformat(),
    )


def test_ten_runs_made_as_fast_as_possible_list_in_the_order_they_ran(
    request_for: RunRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(request_for.loaded.source)
    database = request_for.loaded.history_file
    assert database is not None
    for repetition in range(REPETITIONS):
        starts = [start_run(request_for) for _ in range(TEN)]  # the ids and times of runs
        made = [
            replace(run(0, [stage("unit", float(i + 1))]), run_id=s.run_id, started_at=s.started_at)
            for i, s in enumerate(starts)
        ]
        if repetition % 2:
            made = [
                whole_seconds(record, i) for i, record in enumerate(made)
            ]  # ties for the history to break
        database.unlink(missing_ok=True)
        for record in made:
            HistoryStore(database).record_run(record)  # one connection per run, as runs do
        newest = [record.run_id for record in reversed(made)]

        listed = cli_json(capsys, "history", "--config", config, "--json")
        assert [r["run_id"] for r in listed] == newest, repetition
        for last in (1, 2, 5, 9):
            some = cli_json(capsys, "history", "--config", config, "--last", str(last), "--json")
            assert [r["run_id"] for r in some] == newest[:last], (repetition, last)

        trend = cli_json(capsys, "trend", "--config", config, "--format", "json")
        series = trend["groups"][0]["series"]
        unit = next(s for s in series if s["name"] == "unit")
        assert [p["run_id"] for p in unit["points"]] == newest[::-1], repetition
        # The windows: the 3 latest runs (8, 9, 10 s) against the 7 before them (1..7 s).
        assert unit["comparison"]["recent_median"] == 9.0, repetition
        assert unit["comparison"]["baseline_median"] == 4.0, repetition

        expected = HistoryStore(database).stage_profiles("heavy", RUNNER, recent=3)
        assert expected["unit"].duration_s == 9.0, repetition


def test_trend_analysis_puts_runs_of_one_instant_in_recorded_order() -> None:
    same = "2026-03-01T12:00:07+00:00"
    records = [
        replace(run(i, [stage("unit", 1.0)]), run_id=f"z{9 - i}", started_at=same) for i in range(4)
    ]
    listed = records[::-1]  # newest recorded first, as the history lists them
    assert [r.run_id for r in runs_oldest_first(listed)] == ["z9", "z8", "z7", "z6"]


def test_every_history_query_lists_runs_in_run_orders_order() -> None:
    from orchestrator.history import store, tests
    from orchestrator.model.run_order import NEWEST_FIRST_SQL, OLDEST_FIRST_SQL

    queries = [
        " ".join(text.split())
        for module in (store, tests)
        for text in vars(module).values()
        if isinstance(text, str) and "started_utc" in text and "ORDER BY" in text
    ]
    assert len(queries) == 7
    for query in queries:
        orders = query.count(f"ORDER BY {NEWEST_FIRST_SQL}") + query.count(
            f"ORDER BY {OLDEST_FIRST_SQL}"
        )
        assert orders == query.count("started_utc"), query
