"""What a stage's record says of its selection, and the `select` key."""

from __future__ import annotations

from typing import Any

from orchestrator.configfile.schema import parse_config
from orchestrator.model.records import record_from_data
from orchestrator.model.testresults import (
    TestSelection,
    TestsSummary,
    merge_selections,
    merge_summaries,
)


def test_the_line_says_how_many_ran_of_how_many_and_why() -> None:
    selection = TestSelection(
        mode="affected", selected=42, total=1294, reason="changed: src/pkg/core.py: Parser.parse"
    )
    assert selection.line == "ran 42 of 1,294 tests (changed: src/pkg/core.py: Parser.parse)"


def test_a_shadow_line_names_the_escapes() -> None:
    clean = TestSelection(mode="shadow", selected=3, total=10, reason="changed: a.py: f")
    assert (
        clean.line
        == "shadow: ran all 10 tests; affected would have run 3 (changed: a.py: f); no escapes"
    )
    escaped = TestSelection(
        mode="shadow", selected=3, total=10, reason="r", escapes=("t::x", "t::y")
    )
    assert escaped.line.endswith("ESCAPES: 2 skipped test(s) failed: t::x, t::y")


def test_parts_of_a_selected_stage_share_its_total_and_add_what_they_ran() -> None:
    part = TestSelection(mode="affected", selected=2, total=50, reason="r", files=("a",))
    other = TestSelection(mode="affected", selected=3, total=50, reason="r", files=("b",))
    summaries = [
        TestsSummary(total=50, passed=2, selection=part),
        TestsSummary(total=50, passed=3, selection=other),
    ]
    merged = merge_summaries(summaries)
    assert merged.total == 50 and merged.passed == 5
    assert merged.selection == merge_selections([part, other], 5)
    assert merged.selection is not None and merged.selection.selected == 5
    assert merged.selection.files == ("a", "b")


def test_a_record_with_a_selection_reads_back() -> None:
    data: dict[str, Any] = {
        "run_id": "r",
        "started_at": "2026-01-01T00:00:00+00:00",
        "lane": "standard",
        "strategy": "adaptive",
        "workers": 1,
        "stages": [
            {
                "number": 4,
                "name": "unit",
                "status": "passed",
                "tests": {
                    "total": 9,
                    "passed": 2,
                    "selection": {"mode": "affected", "selected": 2, "total": 9, "reason": "r"},
                },
            }
        ],
    }
    stage = record_from_data(data).stages[0]
    assert stage.tests is not None and stage.tests.selection is not None
    assert stage.tests.selection.line == "ran 2 of 9 tests (r)"


def test_select_is_a_pytest_key_with_three_values() -> None:
    config, problems = parse_config({"stages": {"unit": {"run": ["pytest"], "select": "affected"}}})
    assert problems == [] and config is not None
    assert config.stages["unit"].select == "affected"
    _, problems = parse_config({"stages": {"lint": {"run": ["ruff"], "select": "affected"}}})
    assert problems == [
        "stages.lint.select: applies to a pytest command (pytest, py.test or python -m pytest), "
        "not to 'ruff'"
    ]
    _, problems = parse_config({"stages": {"unit": {"run": ["pytest"], "select": "some"}}})
    assert problems == [
        'stages.unit.select: must be one of "all", "affected", "shadow", not "some"'
    ]
