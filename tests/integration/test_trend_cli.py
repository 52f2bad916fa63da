"""`workflow trend` over a real history database, run as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.history.store import HistoryStore
from orchestrator.model.records import RunRecord
from tests.helpers.trends_data import noisy, runs_from, seeded
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

CONFIG = '[workflow]\nhistory = "history.db"\n\n[stages.lint]\nrun = ["true"]\n'


def history(*, unit_step: float) -> list[RunRecord]:
    """25 nightly runs: lint steady, unit `unit_step` times slower in the last 5."""
    rng = seeded(11)
    unit = noisy(rng, 20.0, 20) + [v * unit_step for v in noisy(rng, 20.0, 5)]
    return runs_from({"lint": noisy(rng, 4.0, 25), "unit": unit, "security": noisy(rng, 2, 25)})


def project(tmp_path: Path, records: list[RunRecord]) -> Path:
    (tmp_path / "workflow.toml").write_text(CONFIG)
    store = HistoryStore(tmp_path / "history.db")
    for record in records:
        store.record_run(record)
    return tmp_path


def test_a_regression_is_found_and_fails_only_when_asked(tmp_path: Path) -> None:
    root = project(tmp_path, history(unit_step=1.4))
    report = workflow(root, "trend", "--format", "json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["regression"] is True
    (group,) = data["groups"]
    assert group["lane"] == "heavy"
    assert "unit" in group["regressions"]
    assert "lint" not in group["regressions"]
    assert "regression: heavy unit: median" in report.stderr

    failing = workflow(root, "trend", "--fail-on-regression")
    assert failing.returncode == 4
    assert "| unit | **regression** |" in failing.stdout


def test_no_regression_exits_0_even_with_the_flag(tmp_path: Path) -> None:
    root = project(tmp_path, history(unit_step=1.0))
    result = workflow(root, "trend", "--fail-on-regression", "--format", "md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("## workflow trend: no regression")


def test_html_goes_to_the_named_file(tmp_path: Path) -> None:
    root = project(tmp_path, history(unit_step=1.4))
    target = root / "out" / "trend.html"
    result = workflow(root, "trend", "--format", "html", "-o", str(target), "--last", "25")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"trend report: {target}"
    page = target.read_text()
    assert page.count('<svg class="trend-chart"') == 4  # the whole run and three stages


def test_an_empty_history_still_writes_a_report(tmp_path: Path) -> None:
    root = project(tmp_path, [])
    result = workflow(root, "trend", "--fail-on-regression", "--format", "html", "-o", "t.html")
    assert result.returncode == 0, result.stderr
    assert "No runs recorded yet." in (root / "t.html").read_text()
    assert "no runs recorded in" in result.stderr
    assert not (root / "history.db").exists()


def test_a_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    root = project(tmp_path, [])
    result = workflow(root, "trend", "--format", "pdf")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
