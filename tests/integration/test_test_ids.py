"""Test ids are pytest's node ids, failures are placed from the repository root, and
GitHub gets at most ten errors for the whole run.

One repository in tmp_path: the project lives in `backend/` (its `pytest.ini`, pytest's
rootdir, there), workflow.toml at the root runs pytest from `backend/tests`, in a stage
that names its own `--junit-xml` with `junit_family = xunit2` (no `file` attribute);
tests sit in `tests/API/v1.2/` with parameters holding `::`, `/`, `[` and a non-ASCII
letter. Beside it: a tool that is not pytest with a JUnit file of its own, and a stage
of twelve failing tests. One `workflow run`, as in GitHub Actions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

USERS = """
from pathlib import Path

import pytest

CALLS = Path(__file__).with_name("calls")


class TestUsers:
    @pytest.mark.parametrize("value", ["a::b", "c/d", "[x]", "\\u00e9"])
    def test_value(self, value):
        if value == "a::b":
            calls = int(CALLS.read_text()) if CALLS.exists() else 0
            CALLS.write_text(str(calls + 1))
            assert calls > 0, "fails on its first call only"

    def test_always(self):
        assert 1 + 1 == 3
"""
MANY = """
import pytest


@pytest.mark.parametrize("n", range(12))
def test_fails(n):
    assert n < 0
"""
FOREIGN = """
from pathlib import Path
Path("report.xml").write_text(
    '<testsuite><testcase classname="com.example.UserTest" name="test_x">'
    '<failure message="expected 1">at UserTest.java:12</failure></testcase></testsuite>'
)
raise SystemExit(1)
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    root = tmp_path_factory.mktemp("ids")
    tests = root / "backend" / "tests" / "API" / "v1.2"
    tests.mkdir(parents=True)
    (tests / "test_users.py").write_text(USERS)
    (root / "backend" / "pytest.ini").write_text("[pytest]\njunit_family = xunit2\n")
    (root / "many").mkdir()
    (root / "many" / "test_many.py").write_text(MANY)
    (root / "many" / "pytest.ini").write_text("[pytest]\n")
    (root / "foreign.py").write_text(FOREIGN)
    unit = "python -m pytest -q -p no:cacheprovider --junit-xml=../own.xml ."
    stages = {
        "unit": f'run = {json.dumps(unit)}\ncwd = "backend/tests"\nrerun_failed = 1',
        "many": 'run = "python -m pytest -q -p no:cacheprovider ."\ncwd = "many"',
        "foreign": f'run = {json.dumps([sys.executable, "foreign.py"])}\njunit = "report.xml"\n'
        "rerun_failed = 1",
    }
    (root / "workflow.toml").write_text(
        "".join(f"[stages.{name}]\n{body}\n" for name, body in stages.items())
    )
    # The flaky test's counter is its output, not a source: ignored, as a real suite's is.
    (root / ".gitignore").write_text("calls\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    done = workflow(
        root,
        "run",
        "--lane",
        "heavy",
        "--no-history",
        "--format",
        "json,html",
        env={"GITHUB_ACTIONS": "true"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    record = json.loads(next((root / ".workflow" / "reports").glob("*/run.json")).read_text())
    return root, {stage["name"]: stage for stage in record["stages"]}, done.stdout


def test_ids_are_node_ids_and_reruns_find_them(ran: tuple[Path, dict[str, Any], str]) -> None:
    root, stages, _ = ran
    unit = stages["unit"]["tests"]
    base = "tests/API/v1.2/test_users.py::TestUsers"
    assert unit["failed_ids"] == [f"{base}::test_always"]
    assert unit["flaky"] == [f"{base}::test_value[a::b]"]  # rerun by its id, and passed
    assert stages["unit"]["error"] == f"1 test(s) failed on every rerun: {base}::test_always; " + (
        f"flaky (passed on a rerun): {base}::test_value[a::b]"
    )
    ids = [
        line
        for line in (root / ".workflow").rglob("unit.rerun1.ids").__next__().read_text().split("\n")
        if line
    ]
    # From pytest's cwd (backend/tests), not its rootdir (backend).
    assert sorted(ids) == [
        f"API/v1.2/test_users.py::TestUsers::{t}" for t in ("test_always", "test_value[a::b]")
    ]
    assert (root / "backend" / "own.xml").is_file()  # the command's own file is still written
    assert unit["rootdir"] == "backend"


def test_failures_are_placed_from_the_repository_root(
    ran: tuple[Path, dict[str, Any], str],
) -> None:
    _, stages, output = ran
    (failure,) = stages["unit"]["tests"]["failures"]
    assert failure["file"] == "backend/tests/API/v1.2/test_users.py"
    assert failure["line"] == 18  # the assertion, not the `def` (17)
    assert "::error file=backend/tests/API/v1.2/test_users.py,line=18," in output


def test_a_foreign_junit_file_names_its_tests_as_it_does_and_never_reruns_them(
    ran: tuple[Path, dict[str, Any], str],
) -> None:
    _, stages, _ = ran
    foreign = stages["foreign"]
    assert foreign["tests"]["failed_ids"] == ["com.example.UserTest::test_x"]
    assert (foreign["tests"]["reruns"], foreign["attempts"]) == (0, 1)
    assert foreign["error"] == "exited with code 1"


def test_github_gets_ten_errors_for_the_whole_run_then_where_the_rest_are(
    ran: tuple[Path, dict[str, Any], str],
) -> None:
    root, _, output = ran
    errors = [line for line in output.splitlines() if line.startswith("::error ")]
    # 3 failed stages and 14 failed tests: 9 of them, then one line for the other 8.
    assert len(errors) == 10
    assert errors[-1].startswith("::error title=workflow%3A 8 more errors::")
    assert "report.html" in errors[-1]
    run_dir = next((root / ".workflow" / "reports").iterdir())
    assert str((run_dir / "report.html").relative_to(root)) in errors[-1]
