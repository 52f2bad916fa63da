"""The HTML report in a real headless Chromium: it renders, offline, without errors.

Uses Debian's `chromium` (installed by .ci/run) driven through the DevTools protocol by
Playwright; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request

from orchestrator.model.masking import Masker
from reports import write_reports
from tests.helpers.reports_samples import HIDDEN, SCRIPT, sample_run

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Visit:
    """A loaded page and everything it tried to do."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    run = sample_run(tmp_path)
    (html,) = write_reports(run, tmp_path, ["html"], masker=Masker([HIDDEN]))
    return html


@contextmanager
def visit(browser: Browser, path: Path, **context: object) -> Iterator[Visit]:
    # each test passes playwright's own keywords (viewport, color_scheme): typed per call
    page_context = browser.new_context(**context)  # type: ignore[arg-type]  # see above
    page = page_context.new_page()
    seen = Visit(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            seen.errors.append(f"{message.type}: {message.text}")

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.goto(path.as_uri(), wait_until="load")
    try:
        yield seen
    finally:
        page_context.close()


@pytest.fixture
def desktop(browser: Browser, report: Path) -> Iterator[Visit]:
    with visit(browser, report, viewport=DESKTOP) as seen:
        yield seen


def test_the_timeline_and_the_table_show_every_stage(desktop: Visit, report: Path) -> None:
    page = desktop.page
    assert page.locator("svg#timeline").is_visible()
    bars = page.locator("svg#timeline g.stage")
    assert [
        (bars.nth(i).get_attribute("data-stage"), bars.nth(i).get_attribute("data-status"))
        for i in range(bars.count())
    ] == [
        ("lint", "passed"),
        ("typecheck", "passed"),
        ("unit", "failed"),
        ("integration", "timeout"),
    ]
    assert page.locator("svg#timeline line.target").count() == 4
    rows = page.locator("table#stages tbody tr")
    assert [
        (
            rows.nth(i).locator("td.stage-name").inner_text(),
            rows.nth(i).locator(".status").inner_text(),
        )
        for i in range(rows.count())
    ] == [
        ("lint", "passed"),
        ("typecheck", "passed"),
        ("unit", "failed"),
        ("integration", "timeout"),
        ("security", "skipped"),
    ]
    assert page.locator("#outcome").inner_text() == "failed"
    page.screenshot(path=report.with_name("desktop.png"), full_page=True)


def test_it_loads_offline_without_errors(desktop: Visit, report: Path) -> None:
    assert desktop.requests == [report.as_uri()]
    assert desktop.errors == []


def test_a_script_in_a_log_is_shown_not_run(desktop: Visit) -> None:
    log = desktop.page.locator("pre.log[data-stage=unit]")
    assert SCRIPT in log.inner_text()
    assert "***" in log.inner_text()
    assert desktop.dialogs == []
    assert desktop.page.locator("script").count() == 0
    assert HIDDEN not in desktop.page.content()


def test_it_reads_on_a_phone(browser: Browser, report: Path) -> None:
    with visit(browser, report, viewport=PHONE, is_mobile=True, device_scale_factor=2) as seen:
        page = seen.page
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, "the page itself must not scroll sideways on a phone"
        assert page.locator("svg#timeline").is_visible()
        assert page.locator("table#stages").is_visible()
        font_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font_px >= 14
        assert seen.errors == []
        page.screenshot(path=report.with_name("phone.png"), full_page=True)


def test_it_follows_dark_mode(browser: Browser, report: Path) -> None:
    with visit(browser, report, viewport=DESKTOP, color_scheme="dark") as seen:
        page = seen.page
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text = page.evaluate("getComputedStyle(document.body).color")
        assert background == "rgb(13, 17, 23)"
        assert text == "rgb(230, 237, 243)"
        page.screenshot(path=report.with_name("dark.png"), full_page=True)
