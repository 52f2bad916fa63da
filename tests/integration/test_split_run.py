"""A pytest stage with `split`: real parts, every test run once, one record with parts.

The inner project lives in tmp_path with its own git repository. Each inner test writes
its node id and its process id to a file of its own, so the test can see which process
ran which test (what the code decided), never how long anything took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.history.tests import expected_overhead
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

TEST_FILE = """
import os
from pathlib import Path

import pytest

OUT = Path(__file__).parent.parent / "ran"


def _note(name):
    OUT.mkdir(exist_ok=True)
    (OUT / name).write_text(str(os.getpid()))


def test_one():
    _note("{stem}-one")


def test_two():
    _note("{stem}-two")
"""
GROUPED = """
import os
from pathlib import Path

import pytest

OUT = Path(__file__).parent.parent / "ran"


@pytest.mark.xdist_group(name="db")
def test_grouped():
    OUT.mkdir(exist_ok=True)
    (OUT / "{stem}-grouped").write_text(str(os.getpid()))
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)


def project(root: Path, split: int | str, files: int = 4, extra: str = "") -> Path:
    tests = root / "tests"
    tests.mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    xdist_group: together\n")
    for index in range(files):
        (tests / f"test_m{index}.py").write_text(TEST_FILE.replace("{stem}", f"m{index}"))
    for stem in ("g", "h"):
        (tests / f"test_{stem}.py").write_text(GROUPED.replace("{stem}", stem))
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    (root / "workflow.toml").write_text(
        '[workflow]\nhistory = "history.db"\n'
        f"[stages.unit]\nrun = {json.dumps(argv)}\nsplit = {json.dumps(split)}\n{extra}"
    )
    (root / ".gitignore").write_text(".workflow/\nran/\nhistory.db*\n__pycache__/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project")
    return root


def run_record(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    done = workflow(root, "run", "--lane", "heavy", "--no-cache", *args)
    line = next(x for x in done.stdout.splitlines() if x.startswith("reports: "))
    run_dir = Path(line.removeprefix("reports: "))
    return done, json.loads((run_dir / "run.json").read_text())


def ran(root: Path) -> dict[str, int]:
    """Test name -> the process that ran it."""
    return {path.name: int(path.read_text()) for path in (root / "ran").iterdir()}


def test_every_test_runs_once_in_its_part_and_the_record_keeps_one_stage(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "p", split=3)
    done, record = run_record(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unit split into 3 parts by test file" in done.stdout
    [stage] = record["stages"]
    assert stage["name"] == "unit"
    assert [part["part"] for part in stage["parts"]] == ["1/3", "2/3", "3/3"]
    assert stage["tests"]["total"] == 10
    assert sum(part["tests"] for part in stage["parts"]) == 10
    assert stage["cpu_demand"] == 3.0  # admitted for a core per part
    processes = ran(root)
    expected = {f"m{i}-{n}" for i in range(4) for n in ("one", "two")} | {"g-grouped", "h-grouped"}
    assert set(processes) == expected
    assert len(set(processes.values())) == 3  # three pytest processes ran them
    # Tests that must run together (one xdist_group) and tests of one file share a process.
    assert processes["g-grouped"] == processes["h-grouped"]
    assert all(processes[f"m{i}-one"] == processes[f"m{i}-two"] for i in range(4))
    # The stage's figures are its parts' together.
    assert stage["cpu_seconds"] == pytest.approx(
        sum(part["cpu_seconds"] for part in stage["parts"]), abs=1e-3
    )
    assert stage["peak_rss_bytes"] == sum(part["peak_rss_bytes"] for part in stage["parts"])
    log = (root / ".workflow" / "reports" / record["run_id"] / stage["log"]).read_text()
    assert all(f"--- workflow: part {k}/3" in log for k in (1, 2, 3))


def test_the_next_plan_balances_by_the_recorded_tests(tmp_path: Path) -> None:
    root = project(tmp_path / "p", split=2)
    first, _ = run_record(root)
    assert "(no known tests)" in first.stdout
    planned = workflow(root, "run", "--lane", "heavy", "--dry-run")
    assert "unit split into 2 parts by test file (10 known tests)" in planned.stdout
    assert "    parts (predicted): 1/2 " in planned.stdout
    # What each part's pytest process spent besides its tests was measured and kept: the
    # next plan's parts pay that, not the stage's wall time beyond all its tests.
    overhead = expected_overhead(root / "history.db", "heavy", "unit")
    assert overhead is not None
    assert overhead > 0


def test_a_failing_part_fails_the_stage_and_says_which(tmp_path: Path) -> None:
    root = project(tmp_path / "p", split=2)
    (root / "tests" / "test_m1.py").write_text(
        TEST_FILE.replace("{stem}", "m1") + "\n\ndef test_broken():\n    assert 1 == 2\n"
    )
    done, record = run_record(root)
    assert done.returncode == 1
    [stage] = record["stages"]
    assert stage["status"] == "failed"
    assert stage["tests"]["failed_ids"] == ["tests/test_m1.py::test_broken"]
    bad = [part for part in stage["parts"] if part["status"] == "failed"]
    assert len(bad) == 1
    assert stage["error"].startswith(f"part {bad[0]['part']}: ")


def test_a_part_left_without_tests_passes(tmp_path: Path) -> None:
    # Two groups of tests (file m0, the db group) for three parts: one part has none.
    root = project(tmp_path / "p", split=3, files=1)
    done, record = run_record(root)
    assert done.returncode == 0, done.stdout
    [stage] = record["stages"]
    assert sorted(part["tests"] for part in stage["parts"]) == [0, 2, 2]
    assert all(part["status"] == "passed" for part in stage["parts"])


def test_split_on_a_command_that_is_not_pytest_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[stages.lint]\nrun = "ruff check"\nsplit = 2\n')
    done = workflow(tmp_path, "validate")
    assert done.returncode == 2
    assert "stages.lint.split: applies to a pytest command" in done.stderr
    assert "Traceback" not in done.stderr
