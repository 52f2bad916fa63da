"""The HTML report of real failed and split runs, measured in headless Chromium: failures
come first, and no table is wider than the page on a laptop (they wrap) while on a phone
they scroll inside their own box, never the page."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.helpers.lanes_repo import git_env, init_repo, workflow

pytestmark = pytest.mark.integration

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
LONG = "a_rather_long_parametrized_payload_name_that_keeps_going"
TESTS = f"""import pytest


@pytest.mark.parametrize("payload", [f"{LONG}_{{i}}" for i in range(14)])
def test_round_trip_of_a_serialized_structure_with_nested_fields(payload):
    assert payload


@pytest.mark.parametrize("payload", ["{LONG}_x", "{LONG}_y"])
def test_a_failure_with_a_long_message_that_explains_what_went_wrong(payload):
    assert payload == "expected " + "a much longer value that does not match " * 3
"""
CONFIG = f"""[stages.lint]
number = 2
run = [{json.dumps(sys.executable)}, "-c", "print('lint is clean')"]

[stages.unit]
number = 4
run = [{json.dumps(sys.executable)}, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
"""


def _report(output: str) -> Path:
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    return Path(line.removeprefix("reports: ")) / "report.html"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The report of a failed run that ran its tests whole, then of one that split them."""
    root = tmp_path_factory.mktemp("layout")
    repo = init_repo(
        root / "project",
        {"workflow.toml": CONFIG, "tests/test_payloads.py": TESTS, ".gitignore": ".workflow/\n"},
    )
    env = {**git_env(), "CI": "true"}
    first = workflow(repo.path, "run", "--lane", "heavy", "--no-cache", env=env)
    repo.commit({"workflow.toml": CONFIG + "split = 2\n"})
    second = workflow(repo.path, "run", "--lane", "heavy", "--no-cache", env=env)
    assert (first.returncode, second.returncode) == (1, 1), first.stdout + second.stdout
    found = {"failed": _report(first.stdout), "split": _report(second.stdout)}
    assert "unit[1/2]" not in found["failed"].read_text()  # the first ran its tests whole,
    assert "unit[1/2]" in found["split"].read_text()  # the second in two parts
    yield found


def _widths(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            view: window.innerWidth,
            tables: [...document.querySelectorAll('table')].map(t => ({
                id: t.id || t.className,
                right: t.getBoundingClientRect().right,
                scrolls: t.parentElement.scrollWidth > t.parentElement.clientWidth + 1,
            })),
        })"""
    )
    return found


@pytest.mark.parametrize("kind", ["failed", "split"])
def test_failures_first_and_tables_fit_a_laptop_screen(
    browser: Browser, reports: dict[str, Path], kind: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(reports[kind].as_uri(), wait_until="load")
    summary = page.locator("#summary").inner_text()
    assert summary.startswith("Failed: unit (2 failed tests: tests/test_payloads.py::"), summary
    # The failed stage shows pytest's short summary (of every part that failed), not
    # whatever printed last.
    log = page.locator("pre.log[data-stage=unit]").inner_text()
    assert log.startswith("=") and "short test summary info" in log, log
    assert log.count("FAILED tests/test_payloads.py::") == 2, log
    order = page.evaluate(
        "['summary', 'failures', 'tests', 'stages', 'bottlenecks']"
        ".map(id => document.getElementById(id)).map(e => e.getBoundingClientRect().top)"
    )
    assert order == sorted(order), "a failed run leads with its failures and failed tests"
    widths = _widths(page)
    assert widths["page"] == widths["view"], widths
    for table in widths["tables"]:
        assert table["right"] <= DESKTOP["width"], table
        assert not table["scrolls"], f"{table['id']} scrolls at 1280 px instead of wrapping"
    page.screenshot(path=reports[kind].with_name("desktop-1280.png"), full_page=True)
    _keep(reports[kind].with_name("desktop-1280.png"), f"{kind}-1280.png")
    context.close()


@pytest.mark.parametrize("kind", ["failed", "split"])
def test_on_a_phone_tables_scroll_in_their_box_not_the_page(
    browser: Browser, reports: dict[str, Path], kind: str
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(reports[kind].as_uri(), wait_until="load")
    widths = _widths(page)
    assert widths["page"] <= PHONE["width"], widths
    assert any(t["scrolls"] for t in widths["tables"]), widths
    page.screenshot(path=reports[kind].with_name("phone-390.png"), full_page=True)
    _keep(reports[kind].with_name("phone-390.png"), f"{kind}-390.png")
    context.close()


def _keep(shot: Path, name: str) -> None:
    """Copy a screenshot where a person reviewing the layout can open it, when asked to
    (WORKFLOW_SCREENSHOTS names the directory)."""
    target = os.environ.get("WORKFLOW_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / name)
