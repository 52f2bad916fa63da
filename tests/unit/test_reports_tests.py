"""Each stage's tests in the reports: failed by id and place, slowest with share, flaky;
annotations at file and line; the finding when a few tests take most of a stage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, StageStatus
from orchestrator.model.testresults import Outcome, TestCase, summarize
from reports.github import publish_github
from reports.html import render_html
from reports.markdown import render_markdown
from sla.bottlenecks import find_bottlenecks
from sla.slow_tests import few_tests_finding
from tests.helpers.trends_data import run, stage


def suite(slow: int, total: int, slow_s: float, fast_s: float) -> list[TestCase]:
    cases = [
        TestCase(f"tests/test_s.py::test_slow_{i}", Outcome.PASSED, slow_s) for i in range(slow)
    ]
    cases += [
        TestCase(f"tests/test_f.py::test_fast_{i}", Outcome.PASSED, fast_s)
        for i in range(total - slow)
    ]
    return cases


def record_with(cases: list[TestCase], flaky: tuple[str, ...] = ()) -> RunRecord:
    unit = replace(stage("unit", 60.0, status=StageStatus.FAILED), tests=summarize(cases, flaky))
    return run(0, [unit])


FAILED = TestCase(
    "tests/test_f.py::test_breaks",
    Outcome.FAILED,
    0.2,
    "tests/test_f.py",
    21,
    "assert <b>1</b> == 2",
)
NO_PLACE = TestCase("Suite::case", Outcome.ERROR, 0.1, None, None, "setup failed")


def test_markdown_lists_failed_flaky_and_the_ten_slowest_with_their_share(tmp_path: Path) -> None:
    cases = [*suite(12, 1294, 3.0, 0.018), FAILED, NO_PLACE]
    cases.append(TestCase("tests/test_f.py::test_flips", Outcome.FAILED, 0.1))
    text = render_markdown(record_with(cases, ("tests/test_f.py::test_flips",)), tmp_path)
    assert "**unit**: 1,297 tests: 1,295 passed, 1 failed, 1 errors, 1 flaky" in text
    place = "`tests/test_f.py::test_breaks` at `tests/test_f.py:21`"
    assert f"- ❌ {place}: assert &lt;b&gt;1&lt;/b&gt; == 2" in text
    assert "- ❌ `Suite::case`: setup failed" in text
    assert "flaky (failed, then passed on a rerun): `tests/test_f.py::test_flips`" in text
    slow_rows = [line for line in text.splitlines() if line.startswith("| `tests/test_s.py")]
    assert len(slow_rows) == 10
    assert slow_rows[0] == "| `tests/test_s.py::test_slow_0` | 3.00s | 5% |"


def test_html_shows_the_same_facts_escaped(tmp_path: Path) -> None:
    page = render_html(record_with([*suite(3, 30, 1.0, 0.1), FAILED], ()), tmp_path)
    assert '<section id="tests">' in page
    assert "tests/test_f.py::test_breaks" in page and "tests/test_f.py:21" in page
    assert "assert &lt;b&gt;1&lt;/b&gt; == 2" in page
    assert page.count("<td><code>tests/test_s.py::test_slow_") == 3
    assert "Share of unit" in page


def test_secrets_in_test_output_are_masked(tmp_path: Path) -> None:
    leaky = replace(FAILED, message="token hunter2 was rejected")
    text = render_markdown(record_with([leaky]), tmp_path, Masker(["hunter2"]))
    assert "hunter2" not in text and "token \\*\\*\\* was rejected" in text
    page = render_html(record_with([leaky]), tmp_path, Masker(["hunter2"]))
    assert "hunter2" not in page and "token *** was rejected" in page


def test_annotations_name_failed_tests_at_their_line_and_flaky_ones(tmp_path: Path) -> None:
    flips = TestCase("tests/test_f.py::test_flips", Outcome.FAILED, 0.1)
    record = record_with([FAILED, NO_PLACE, flips], ("tests/test_f.py::test_flips",))
    lines: list[str] = []
    publish_github(record, tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    assert (
        "::error file=tests/test_f.py,line=21,title=workflow%3A unit%3A "
        "tests/test_f.py%3A%3Atest_breaks failed::assert <b>1</b> == 2"
    ) in lines
    assert "::error title=workflow%3A unit%3A Suite%3A%3Acase failed::setup failed" in lines
    assert any(
        line.startswith("::warning file=tests/test_f.py,title=") and "test_flips is flaky" in line
        for line in lines
    )


def test_a_few_tests_taking_most_of_a_stage_are_a_finding() -> None:
    record = record_with(suite(8, 1294, 5.0, 0.018))
    found = few_tests_finding(record.stages[0], replay_record(record))
    assert found is not None
    # The stage is the whole run: the few tests as their own stage save what the longer
    # part (the few, 63% of the test time) leaves of it.
    assert found.saving_s is not None and found.saving_s > 0
    assert found.detail.startswith("8 of 1,294 tests take 63% of unit")
    assert found.recommendation == ("mark them and run them as their own stage, or split the stage")
    assert found in find_bottlenecks(record, replay_record(record))


def test_an_even_suite_or_a_tiny_one_is_no_finding() -> None:
    for record in (
        record_with(suite(0, 500, 0.0, 0.1)),
        record_with(suite(2, 10, 5.0, 0.1)),
        record_with(suite(3, 100, 0.1, 0.01)),
    ):
        assert few_tests_finding(record.stages[0], replay_record(record)) is None
    plain = record_with(suite(0, 1, 0.0, 0.1))
    assert few_tests_finding(stage("unit", 60.0), replay_record(plain)) is None
