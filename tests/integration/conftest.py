"""Fixtures shared by the integration tests: a real headless Chromium.

Debian's `chromium` (installed by .ci/run) driven by Playwright through
`executable_path`; Playwright's own browser downloads are never used. Without Chromium
the browser tests fail under CI and are skipped, with the install command, elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that keep Chromium off the network it cannot reach here, and working as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole test session."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The cache mutation tests' counts: cases, wrong hits, needless misses (and which)."""
    from tests.integration.mutations import TALLY

    if not TALLY:
        return
    checked = sum(t.checked for t in TALLY)
    wrong = sum(len(t.wrong_hits) for t in TALLY)
    needless = [f"{t.family}: {label}" for t in TALLY for label in t.needless]
    terminalreporter.write_line(
        f"cache mutations: {checked} cases, {wrong} wrong hits, {len(needless)} needless misses"
    )
    for tally in TALLY:
        terminalreporter.write_line(
            f"  {tally.family}: {tally.checked} cases, {len(tally.wrong_hits)} wrong hits, "
            f"{len(tally.needless)} needless misses"
        )
    for line in needless:
        terminalreporter.write_line(f"  needless miss: {line}")


@pytest.fixture
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git configuration and CI's variables from in-process detection."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "WORKFLOW_")):
            monkeypatch.delenv(name)
