"""Every report says what a stage's test selection ran of what, and why; and its escapes."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from orchestrator.model.records import RunRecord, StageStatus
from orchestrator.model.testresults import Outcome, TestCase, TestSelection, summarize
from reports.github import publish_github
from reports.html import render_html
from reports.junit import render_junit
from reports.markdown import render_markdown
from reports.terminal import print_run_summary
from tests.helpers.trends_data import run, stage

CASES = [TestCase(f"tests/test_a.py::test_{i}", Outcome.PASSED, 0.1) for i in range(42)]
REASON = "changed: src/pkg/core.py: Parser.parse"


def selected(mode: str = "affected", escapes: tuple[str, ...] = ()) -> RunRecord:
    selection = TestSelection(mode=mode, selected=42, total=1294, reason=REASON, escapes=escapes)
    tests = replace(summarize(CASES), total=1294, selection=selection)
    return run(0, [replace(stage("unit", 6.0, status=StageStatus.PASSED), tests=tests)])


def test_each_report_says_what_ran_of_what_and_why(tmp_path: Path) -> None:
    line = f"ran 42 of 1,294 tests ({REASON})"
    record = selected()
    assert line in render_markdown(record, tmp_path)
    assert "42 of 1,294 tests ran: 42 passed" in render_markdown(record, tmp_path)
    assert line in render_html(record, tmp_path)
    assert line in render_junit(record, tmp_path)
    out = io.StringIO()
    print_run_summary(record, stream=out)
    assert f"unit: {line}" in out.getvalue()


def test_an_escape_is_in_every_report_and_a_warning_annotation(tmp_path: Path) -> None:
    escaped = "tests/test_b.py::test_env"
    record = selected("shadow", (escaped,))
    markdown = render_markdown(record, tmp_path)
    assert "escapes (selection would have skipped them, and they failed)" in markdown
    assert f"`{escaped}`" in markdown
    assert escaped in render_html(record, tmp_path)
    out = io.StringIO()
    print_run_summary(record, stream=out)
    assert f"ESCAPES: 1 skipped test(s) failed: {escaped}" in out.getvalue()
    lines: list[str] = []
    publish_github(record, tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    warnings = [line for line in lines if "escaped test selection" in line]
    assert warnings and warnings[0].startswith("::warning file=tests/test_b.py,")
