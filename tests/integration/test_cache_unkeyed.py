"""Stages the result cache cannot key: the run goes on, and nothing treats "" as a key.

Real projects in tmp_path (with and without a git repository), the real `workflow`
command, real stage processes and a real inner pytest.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PASSING = "def test_one():\n    pass\n\ndef test_two():\n    pass\n\ndef test_three():\n    pass\n"
REGRESSED = PASSING.replace("def test_two():\n    pass", "def test_two():\n    assert False")


def pytest_project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "tests" / "test_things.py").write_text(PASSING)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    (root / "workflow.toml").write_text(f"[stages.unit]\nrun = {json.dumps(argv)}\n")
    return root


def last_record(root: Path) -> dict[str, Any]:
    path = sorted((root / ".workflow" / "reports").glob("*/run.json"))[-1]
    record = json.loads(path.read_text())
    assert isinstance(record, dict)
    return record


def test_a_regression_of_an_unkeyed_stage_is_not_flaky(tmp_path: Path) -> None:
    root = pytest_project(tmp_path / "not-a-repository")  # no git: no cache key, no commit
    first = workflow(root, "run", "--lane", "heavy", "--format", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    (root / "tests" / "test_things.py").write_text(REGRESSED)
    second = workflow(root, "run", "--lane", "heavy", "--format", "json")
    assert second.returncode == 1, second.stdout + second.stderr
    (unit,) = last_record(root)["stages"]
    assert unit["cache"]["key"] == ""
    with sqlite3.connect(root / ".workflow" / "history.db") as connection:
        keys = {key for (key,) in connection.execute("SELECT inputs_key FROM test_results")}
    assert keys == {None}  # the inputs are unknown: no two runs are known to agree
    flaky = workflow(root, "flaky", "--json")
    assert flaky.returncode == 0, flaky.stderr
    assert json.loads(flaky.stdout) == []


def test_a_run_without_git_goes_on_and_says_why_nothing_was_cached(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    code = "print('checked')"
    (root / "workflow.toml").write_text(
        f"[stages.check]\nrun = [{json.dumps(sys.executable)}, '-c', {json.dumps(code)}]\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    no_git = tmp_path / "bin-without-git"
    no_git.mkdir()
    done = workflow(root, "run", "--lane", "heavy", "--format", "json", env={"PATH": str(no_git)})
    assert done.returncode == 0, done.stdout + done.stderr
    (check,) = last_record(root)["stages"]
    assert check["status"] == "passed"
    assert check["cache"]["stored"] is False
    assert check["cache"]["reason"] == "git was not found: its inputs cannot be known"
    explained = workflow(root, "cache", "explain", "check", env={"PATH": str(no_git)})
    assert explained.returncode == 0, explained.stderr
    assert "not cacheable: git was not found" in explained.stdout
