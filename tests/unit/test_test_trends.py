"""Per-test trends: the run where an injected 30% step in one test's duration began, as
`workflow trend` shows it in markdown, JSON, HTML and on stderr."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

from lxml import html

from orchestrator.history.store import HistoryStore
from orchestrator.history.tests import ResultRow, passed_durations, record_tests
from orchestrator.model.config import TrendConfig
from orchestrator.model.status import GitRecord
from sla.testtrends import slower_tests, with_test_trends
from sla.trends import analyse
from tests.helpers.trends_data import run, stage
from tests.integration.command import workflow

STEP_AT = 23  # the first run at the slower level


def jitter(run_index: int, test_index: int) -> float:
    """Deterministic noise of a few percent, different for every run and test."""
    return 1.0 + 0.04 * math.sin(run_index * 2.3 + test_index * 0.7)


def sha(index: int) -> str:
    return hashlib.sha1(str(index).encode(), usedforsecurity=False).hexdigest()


def history(db: Path, runs: int = 40, grows: str = "t.py::test_grows") -> list[str]:
    ids = []
    for index in range(runs):
        record = replace(run(index, [stage("unit", 10.0)]), git=GitRecord(sha=sha(index)))
        HistoryStore(db).record_run(record)
        rows = [
            ResultRow("unit", f"t.py::test_{t}", "passed", 0.2 * jitter(index, t), "k")
            for t in range(50)
        ]
        slow = 0.5 * (1.3 if index >= STEP_AT else 1.0) * jitter(index, 99)
        rows.append(ResultRow("unit", grows, "passed", slow, "k"))
        record_tests(db, record.run_id, record.lane, rows)
        ids.append(record.run_id)
    return ids


def test_the_run_where_a_thirty_percent_step_began_is_named(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ids = history(db)
    [step] = slower_tests(passed_durations(db, "heavy", "unit"), TrendConfig())
    assert (step.test_id, step.run_id) == ("t.py::test_grows", ids[STEP_AT])
    assert step.commits == f"{sha(STEP_AT - 1)[:12]}..{sha(STEP_AT)[:12]}"
    assert step.change is not None and 0.25 < step.change < 0.35


def test_the_trend_command_names_it(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    ids = history(tmp_path / "h.db")
    done = workflow(tmp_path, "trend", "--format", "md")
    assert done.returncode == 0, done.stderr
    assert "### Tests that got slower" in done.stdout
    assert "t.py::test_grows: 0.5" in done.stdout
    assert f"from run {ids[STEP_AT]}" in done.stdout
    assert "test_0:" not in done.stdout
    assert "workflow: test slower: heavy: unit t.py::test_grows" in done.stderr


def test_the_json_report_carries_the_change_point_and_its_commits(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    ids = history(tmp_path / "h.db")
    done = workflow(tmp_path, "trend", "--format", "json")
    assert done.returncode == 0, done.stderr
    [found] = json.loads(done.stdout)["slower_tests"]
    assert {k: found[k] for k in ("lane", "stage", "test_id", "run_id")} == {
        "lane": "heavy",
        "stage": "unit",
        "test_id": "t.py::test_grows",
        "run_id": ids[STEP_AT],
    }
    assert (found["commit_before"], found["commit_first"]) == (sha(STEP_AT - 1), sha(STEP_AT))
    assert found["commits"] == f"{sha(STEP_AT - 1)[:12]}..{sha(STEP_AT)[:12]}"
    assert 0.25 < found["change"] < 0.35
    assert found["before_s"] < found["after_s"]


def test_the_html_report_lists_the_test_with_its_run_and_commits(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    odd = "t.py::test_grows[<b>x</b>]"  # a test id is text from the project: never markup
    ids = history(tmp_path / "h.db", grows=odd)
    done = workflow(tmp_path, "trend", "--format", "html", "-o", "trend.html")
    assert done.returncode == 0, done.stderr
    page = html.fromstring((tmp_path / "trend.html").read_text(encoding="utf-8"))
    [row] = page.xpath('//*[@id="slower-tests"]//tr[@class="slower-test"]')
    assert (row.get("data-lane"), row.get("data-stage")) == ("heavy", "unit")
    assert (row.get("data-test"), row.get("data-run")) == (odd, ids[STEP_AT])
    cells = [cell.text_content().strip() for cell in row.xpath("td")]
    assert cells[2] == odd and cells[5] == ids[STEP_AT]
    assert cells[6] == f"{sha(STEP_AT - 1)[:12]}..{sha(STEP_AT)[:12]}"
    assert cells[4].startswith("+") and cells[4].endswith("%")
    assert page.xpath("//b") == []


def test_without_per_test_history_there_is_no_slower_tests_section(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    HistoryStore(tmp_path / "h.db").record_run(run(0, [stage("unit", 10.0)]))
    done = workflow(tmp_path, "trend", "--format", "html", "-o", "trend.html")
    assert done.returncode == 0, done.stderr
    assert html.parse(str(tmp_path / "trend.html")).xpath('//*[@id="slower-tests"]') == []
    as_json = workflow(tmp_path, "trend", "--format", "json")
    assert json.loads(as_json.stdout)["slower_tests"] == []


NEW_AT = 22  # the run where the new tests arrive
TINY = ("t.py::test_tiny_a", "t.py::test_tiny_b", "t.py::test_tiny_c")


def new_tests_history(db: Path, runs: int = 30) -> list[str]:
    """50 steady tests; from run NEW_AT on, an 11 s test and three of 0.081 s that took
    0.000 s before (their module did the work at import): the unit stage rises by 11 s."""
    ids = []
    for index in range(runs):
        new = index >= NEW_AT
        unit = (10.0 + (11.25 if new else 0.0)) * jitter(index, 7)
        record = replace(run(index, [stage("unit", unit)]), git=GitRecord(sha=sha(index)))
        HistoryStore(db).record_run(record)
        rows = [
            ResultRow("unit", f"t.py::test_{t}", "passed", 0.2 * jitter(index, t), "k")
            for t in range(50)
        ]
        rows += [ResultRow("unit", tiny, "passed", 0.081 if new else 0.0, "k") for tiny in TINY]
        if new:
            rows.append(ResultRow("unit", "t.py::test_big", "passed", 11.0 * jitter(index, 3), "k"))
        record_tests(db, record.run_id, record.lane, rows)
        ids.append(record.run_id)
    return ids


def test_a_slowdown_from_a_near_zero_start_needs_the_absolute_floor() -> None:
    rows = [(f"r{i}", None, "t.py::test_tiny", 0.081 if i >= 10 else 0.0) for i in range(20)]
    assert slower_tests(rows, TrendConfig()) == []  # +0.081 s is under the 0.1 s floor
    rows = [(f"r{i}", None, "t.py::test_tiny", 0.5 if i >= 10 else 0.0) for i in range(20)]
    [step] = slower_tests(rows, TrendConfig())
    assert step.change is None  # no ratio from zero
    assert step.line("unit").endswith("0.000s -> 0.500s (+0.500s) from run r10")
    assert slower_tests(rows, TrendConfig(test_min_seconds=0.6)) == []


def test_the_new_test_that_made_a_stage_slower_is_named(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    ids = new_tests_history(tmp_path / "h.db")
    done = workflow(tmp_path, "trend", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    [slowdown] = data["stage_slowdowns"]
    assert (slowdown["stage"], slowdown["run_id"]) == ("unit", ids[NEW_AT])
    [cause] = slowdown["tests"]
    assert (cause["test_id"], cause["new"], cause["before_s"]) == ("t.py::test_big", True, None)
    assert 10.0 < cause["added_s"] < 12.0
    assert (slowdown["new_tests"], slowdown["gone_tests"]) == (1, 0)
    # The three tests that went from 0.000 s to 0.081 s are under the floor: not named.
    assert [s["test_id"] for s in data["slower_tests"]] == []
    assert "stage slower: heavy: unit" in done.stderr
    assert "new test t.py::test_big" in done.stderr
    assert "%" not in done.stderr.split("stage slower:")[1].splitlines()[0]
    md = workflow(tmp_path, "trend", "--format", "md").stdout
    assert "### Why stages got slower" in md
    assert "unit 10.0s -> 21." in md and f"from run {ids[NEW_AT]}: new test t.py::test_big" in md
    assert "test_tiny" not in md


def test_the_html_trend_report_lists_the_new_test_under_its_stage(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[workflow]\nhistory = "h.db"\n')
    ids = new_tests_history(tmp_path / "h.db")
    done = workflow(tmp_path, "trend", "--format", "html", "-o", "trend.html")
    assert done.returncode == 0, done.stderr
    page = html.fromstring((tmp_path / "trend.html").read_text(encoding="utf-8"))
    [item] = page.xpath('//*[@id="stage-slowdowns"]//li[@class="stage-slowdown"]')
    assert (item.get("data-stage"), item.get("data-run")) == ("unit", ids[NEW_AT])
    [cause] = item.xpath('.//li[@class="cause"]')
    assert (cause.get("data-test"), cause.get("data-new")) == ("t.py::test_big", "yes")


def test_a_test_that_got_slow_is_named_with_its_own_before_and_after() -> None:
    records, rows = [], []
    for index in range(30):
        slow = index >= 20
        records.append(
            run(index, [stage("unit", (10.0 + (5.0 if slow else 0.0)) * jitter(index, 1))])
        )
        for t in range(20):
            grows = t == 7 and slow
            seconds = (5.2 if grows else 0.2) * jitter(index, t)
            rows.append((records[-1].run_id, None, f"t.py::test_{t}", seconds))
    report = with_test_trends(analyse(records, TrendConfig()), {("heavy", "unit"): rows})
    [slowdown] = report.slowdowns
    assert slowdown.run_id == records[20].run_id
    [cause] = slowdown.causes
    assert cause.test_id == "t.py::test_7" and cause.before_s is not None
    assert 0.15 < cause.before_s < 0.25 and 4.5 < cause.after_s < 5.8
    assert (slowdown.new_tests, slowdown.gone_tests) == (0, 0)
    assert "the test set changed" not in slowdown.line()
