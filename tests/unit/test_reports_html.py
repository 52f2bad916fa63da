"""The HTML report as text: escaped, masked, self-contained (the browser test renders it)."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import StageStatus
from reports.html import render_html
from reports.timeline import build_timeline, tick_step
from reports.view import build_view
from sla.verdict import apply_sla
from tests.helpers.reports_samples import HIDDEN, SCRIPT, policy, record, sample_run, stage


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_a_script_in_stage_output_is_text_not_a_tag(tmp_path: Path) -> None:
    page = render_html(sample_run(tmp_path), tmp_path)
    elements = parse(page)
    assert not [tag for tag, _ in elements.tags if tag == "script"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT in "".join(elements.text)  # what the reader sees


def test_a_masked_token_never_appears(tmp_path: Path) -> None:
    run = replace(sample_run(tmp_path), lane_reasons=(f"key {HIDDEN}",))
    page = render_html(run, tmp_path, Masker([HIDDEN]))
    assert HIDDEN not in page
    assert "using token *** for the API" in page


def test_the_page_needs_nothing_from_outside(tmp_path: Path) -> None:
    elements = parse(render_html(sample_run(tmp_path), tmp_path))
    for tag, attrs in elements.tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), (tag, name, value)
    metas = {
        attrs.get("name") or attrs.get("http-equiv"): attrs
        for _, attrs in [(t, a) for t, a in elements.tags if t == "meta"]
    }
    assert "width=device-width" in (metas["viewport"]["content"] or "")
    assert "default-src 'none'" in (metas["Content-Security-Policy"]["content"] or "")


def test_the_page_has_a_dark_mode_and_a_narrow_layout(tmp_path: Path) -> None:
    page = render_html(sample_run(tmp_path), tmp_path)
    assert "@media (prefers-color-scheme: dark)" in page
    assert "@media (max-width: 600px)" in page


def test_the_timeline_draws_every_stage_that_ran_with_its_target(tmp_path: Path) -> None:
    page = render_html(sample_run(tmp_path), tmp_path)
    groups = re.findall(r'<g class="stage \w+" data-stage="([^"]+)" data-status="(\w+)"', page)
    assert groups == [
        ("lint", "passed"),
        ("typecheck", "passed"),
        ("unit", "failed"),
        ("integration", "timeout"),
    ]
    assert page.count('class="target"') == 4
    assert re.findall(r'<text class="worker"[^>]*>(\w+)</text>', page) == ["w1", "w2"]


def test_a_target_beyond_the_chart_is_marked_at_its_edge() -> None:
    run = apply_sla(record(stage("lint", 1.0)), policy(lint=100))
    timeline = build_timeline(build_view(run, None, None).stages)
    assert timeline is not None
    (bar,) = timeline.bars
    assert bar.target_beyond
    assert bar.target_x is not None
    assert bar.target_x <= timeline.plot_right + 0.01


def test_a_run_where_nothing_ran_has_no_timeline_but_still_a_page() -> None:
    run = record(stage("lint", 0.0, status=StageStatus.SKIPPED), exit_code=0)
    assert build_timeline(build_view(run, None, None).stages) is None
    page = render_html(run, Path())
    assert 'id="stages"' in page
    assert 'id="timeline"' not in page


def test_tick_steps_are_round() -> None:
    assert tick_step(56.2) == 10
    assert tick_step(3.0) == 0.5
    assert tick_step(900) == 200
