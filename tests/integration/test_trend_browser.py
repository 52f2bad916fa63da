"""Must-show: the trend page in a real headless Chromium shows one chart per stage.

Debian's `chromium` driven by Playwright, the same way as the run report's browser test
(tests/integration/test_reports_browser.py); Playwright's own browser downloads are never
used. The browser fixture is shared, in tests/integration/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from orchestrator.model.config import TrendConfig
from reports.trend import render_trend_html
from sla.trends import analyse
from tests.helpers.trends_data import noisy, runs_from, seeded

pytestmark = pytest.mark.integration

STAGES = ("lint", "typecheck", "unit", "<b>odd</b>")


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[tuple[Page, list[str], list[str]]]:
    rng = seeded(3)
    series = {name: noisy(rng, 5.0, 25) for name in STAGES}
    series["unit"] = noisy(rng, 20.0, 20) + noisy(rng, 30.0, 5)
    report = analyse(runs_from(series), TrendConfig())
    path = tmp_path / "trend.html"
    path.write_text(render_trend_html(report), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("request", lambda request: requests.append(request.url))
    opened.goto(path.as_uri(), wait_until="load")
    yield opened, errors, [url for url in requests if url != path.as_uri()]
    context.close()


def test_one_chart_per_stage_with_target_and_marked_regression(
    page: tuple[Page, list[str], list[str]],
) -> None:
    opened, errors, requests = page
    charts = opened.locator("svg.trend-chart[data-kind=stage]")
    assert charts.count() == len(STAGES)
    assert [charts.nth(i).get_attribute("data-series") for i in range(charts.count())] == list(
        STAGES
    )
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 60
        assert chart.locator("circle.run").count() == 25
        assert chart.locator("line.target").count() == 1
    assert opened.locator("svg.trend-chart[data-kind=run]").count() == 1
    unit = opened.locator("svg.trend-chart[data-series=unit]")
    assert unit.locator("circle.run.regressed").count() == 5
    assert opened.locator("svg.trend-chart[data-series=lint] circle.regressed").count() == 0
    assert opened.locator("article[data-series=unit] .badge").inner_text() == "regression"
    assert opened.locator("script, b").count() == 0  # the odd stage name is text, not markup
    assert errors == []
    assert requests == []
