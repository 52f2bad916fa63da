"""Per-test results from a real pytest stage: the record, reruns of failed tests alone,
flaky tests named and kept in the history, `workflow flaky`, and the reports.

The inner pytest runs in a project made in tmp_path, with its own git repository; the
flaky test fails on its first call and passes after that (a counter file, not time).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

TESTS = """
from pathlib import Path
COUNTER = Path(__file__).with_name("calls")

def test_ok():
    pass

def test_flaky():
    calls = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(calls + 1))
    assert calls > 0, "fails on its first call only"
"""
BROKEN = """
def test_broken():
    assert 1 + 1 == 3
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def project(root: Path, *, broken: bool) -> Path:
    (root / "tests").mkdir(exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "tests" / "test_things.py").write_text(TESTS)
    if broken:
        (root / "tests" / "test_broken.py").write_text(BROKEN)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    (root / "workflow.toml").write_text(
        f"[stages.unit]\nrun = {json.dumps(argv)}\nrerun_failed = 2\n"
    )
    (root / ".gitignore").write_text(".workflow/\ntests/calls\n__pycache__/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a project")
    return root


def last_run(root: Path) -> tuple[Path, dict[str, Any]]:
    run_dir = sorted((root / ".workflow" / "reports").glob("*/run.json"))[-1].parent
    return run_dir, json.loads((run_dir / "run.json").read_text())


def history_rows(root: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(root / ".workflow" / "history.db") as connection:
        return connection.execute(
            "SELECT test_id, outcome, inputs_key FROM test_results ORDER BY test_id"
        ).fetchall()


def test_a_flaky_and_a_broken_test_fail_the_stage_naming_both(tmp_path: Path) -> None:
    root = project(tmp_path, broken=True)
    done = workflow(root, "run", "--lane", "standard", "--format", "html,md,json")
    assert done.returncode == 1, done.stdout + done.stderr
    run_dir, record = last_run(root)
    [unit] = record["stages"]
    tests = unit["tests"]
    assert (tests["total"], tests["passed"], tests["failed"], tests["reruns"]) == (3, 2, 1, 2)
    assert tests["failed_ids"] == ["tests/test_broken.py::test_broken"]
    assert tests["flaky"] == ["tests/test_things.py::test_flaky"]
    assert unit["status"] == "failed"
    assert "tests/test_broken.py::test_broken" in unit["error"]
    assert "flaky (passed on a rerun): tests/test_things.py::test_flaky" in unit["error"]
    # Only the failed tests ran again: the passing one ran once, in the first run.
    log = (run_dir / unit["log"]).read_text()
    assert log.count("rerun of the failed tests") == 2
    assert (run_dir / "tests" / "unit.rerun1.ids").read_text().splitlines() == [
        "tests/test_broken.py::test_broken",
        "tests/test_things.py::test_flaky",
    ]
    assert (run_dir / "tests" / "unit.rerun2.ids").read_text().splitlines() == [
        "tests/test_broken.py::test_broken"
    ]
    # The rows are keyed by the stage's result-cache key (DESIGN "Per-test results").
    key = f"cache {unit['cache']['key']}"
    assert history_rows(root) == [
        ("tests/test_broken.py::test_broken", "failed", key),
        ("tests/test_things.py::test_flaky", "flaky", key),
        ("tests/test_things.py::test_ok", "passed", key),
    ]
    report = (run_dir / "report.md").read_text()
    assert "- ❌ `tests/test_broken.py::test_broken` at `tests/test_broken.py:3`" in report
    assert "flaky (failed, then passed on a rerun): `tests/test_things.py::test_flaky`" in report


def test_with_only_a_flaky_test_the_stage_passes_and_says_so(
    tmp_path: Path, browser: Browser
) -> None:
    root = project(tmp_path, broken=False)
    done = workflow(root, "run", "--lane", "standard", "--format", "html,md,json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flaky: unit: tests/test_things.py::test_flaky" in done.stdout
    run_dir, record = last_run(root)
    [unit] = record["stages"]
    assert unit["status"] == "passed" and unit["exit_code"] == 0
    assert unit["tests"]["flaky"] == ["tests/test_things.py::test_flaky"]
    # A pass that needed reruns is never reused: the next run must see the flaky test.
    assert unit["cache"]["stored"] is False
    assert unit["tests"]["failed"] == 0

    listed = workflow(root, "flaky", "--json")
    assert listed.returncode == 0, listed.stderr
    [flaky] = json.loads(listed.stdout)
    assert (flaky["test_id"], flaky["passed"], flaky["failed"], flaky["flipped"]) == (
        "tests/test_things.py::test_flaky",
        1,
        1,
        1,
    )
    assert "tests/test_things.py::test_flaky" in workflow(root, "flaky").stdout

    page = browser.new_page()
    page.goto((run_dir / "report.html").as_uri())
    section = page.locator("#tests")
    assert section.is_visible()
    assert "tests/test_things.py::test_flaky" in section.locator("ul.flaky-tests").inner_text()
    rows = section.locator("table.slowest-tests tbody tr")
    assert rows.count() == 2
    page.close()


def test_a_stage_that_crashes_before_writing_junit_keeps_its_own_outcome(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "raise SystemExit(3)"]
    (tmp_path / "workflow.toml").write_text(
        f'[stages.tool]\nrun = {json.dumps(argv)}\njunit = "out/junit.xml"\n'
    )
    done = workflow(tmp_path, "run", "--lane", "standard")
    assert done.returncode == 1
    _, record = last_run(tmp_path)
    [tool] = record["stages"]
    assert tool["status"] == "failed" and tool["tests"] is None


def test_secrets_in_test_output_are_masked_in_the_junit_file_record_and_history(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests" / "test_leak.py").write_text(
        "import os\n\ndef test_leak_s3cr3tvalue():\n    assert os.environ['API_TOKEN'] == 'other'\n"
    )
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    (tmp_path / "workflow.toml").write_text(
        f'[stages.unit]\nrun = {json.dumps(argv)}\nenv = {{ API_TOKEN = "s3cr3tvalue" }}\n'
    )
    done = workflow(tmp_path, "run", "--lane", "standard", "--format", "md,json")
    assert done.returncode == 1
    run_dir, record = last_run(tmp_path)
    assert "s3cr3tvalue" not in (run_dir / "tests" / "unit.xml").read_text()
    assert "s3cr3tvalue" not in (run_dir / "run.json").read_text()
    assert "s3cr3tvalue" not in (run_dir / "report.md").read_text()
    assert record["stages"][0]["tests"]["failed_ids"] == ["tests/test_leak.py::test_leak_***"]
    with sqlite3.connect(tmp_path / ".workflow" / "history.db") as connection:
        stored = connection.execute("SELECT test_id FROM test_results").fetchall()
    assert stored == [("tests/test_leak.py::test_leak_***",)]
