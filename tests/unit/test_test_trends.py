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
from sla.test_trends import slower_tests
from tests.integration.command import workflow
from tests.unit.test_trends_data import run, stage

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
    assert 0.25 < step.change < 0.35


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
