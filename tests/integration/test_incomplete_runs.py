"""Nothing incomplete passes: real pytest sessions that stop early fail their stage.

One project in tmp_path holds one test directory per situation and one pytest stage for
each, all run by a single `workflow run` (the stages side by side: each is a pytest
process of its own). A session that stops early (`-x`, `--maxfail`, `-x` in the ini file,
`--sw`, a collection error, an import error in a conftest, a segfault, `os._exit(0)`,
`pytest.exit(returncode=0)`, a KeyboardInterrupt, a timeout) fails its stage, and its
error says how many tests did not run; `rerun_failed` never rescues it. Tests the user
deselected (`-k`, `-m`) are not owed. What is asserted is what workflow decided (status,
the count in the error), never how long anything took.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

FLAKY_THEN_BROKEN = """
from pathlib import Path

CALLS = Path(__file__).with_name("calls")


def test_flaky():
    calls = int(CALLS.read_text()) if CALLS.exists() else 0
    CALLS.write_text(str(calls + 1))
    assert calls > 0, "fails on its first call only"


def test_always_broken():
    assert 1 + 1 == 3


def test_never_reached():
    pass
"""
THREE_FAILING = """
def test_a():
    assert 0

def test_b():
    assert 0

def test_c():
    assert 0

def test_d():
    pass
"""
ENDS = """
{setup}

def test_first():
    pass

def test_ends():
    {end}

def test_after():
    pass

def test_last():
    pass
"""
SELECTED = """
import pytest

def test_wanted():
    pass

def test_other():
    pass

@pytest.mark.slow
def test_slow():
    pass
"""

# stage name -> (files of its test directory, pytest options, extra stage keys)
SITUATIONS: dict[str, tuple[dict[str, str], str, str]] = {
    "x_rerun": ({"test_a.py": FLAKY_THEN_BROKEN}, "-x", "rerun_failed = 2\n"),
    "maxfail": ({"test_a.py": THREE_FAILING}, "--maxfail=2", ""),
    "x_in_ini": (
        {"test_a.py": THREE_FAILING, "pytest.ini": "[pytest]\naddopts = -x\n"},
        "",
        "rerun_failed = 1\n",
    ),
    "stepwise": ({"test_a.py": THREE_FAILING}, "--sw", ""),
    "collection": (
        {"test_a.py": SELECTED, "test_b.py": "import no_such_module\n"},
        "",
        "rerun_failed = 1\n",
    ),
    "conftest": ({"test_a.py": SELECTED, "conftest.py": "import no_such_module\n"}, "", ""),
    "segfault": (
        {"test_a.py": ENDS.format(setup="import ctypes", end="ctypes.string_at(0)")},
        "",
        "",
    ),
    "os_exit": ({"test_a.py": ENDS.format(setup="import os", end="os._exit(0)")}, "", ""),
    "pytest_exit": (
        {"test_a.py": ENDS.format(setup="import pytest", end="pytest.exit('done', returncode=0)")},
        "",
        "",
    ),
    "interrupt": ({"test_a.py": ENDS.format(setup="", end="raise KeyboardInterrupt")}, "", ""),
    "timeout": (
        {"test_a.py": ENDS.format(setup="import time", end="time.sleep(120)")},
        "",
        "timeout = 4\nkill_grace = 1\n",
    ),
    "deselected": ({"test_a.py": SELECTED}, "-k wanted -m 'not slow'", ""),
}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every situation's stage record, from one run."""
    root = tmp_path_factory.mktemp("incomplete")
    lines = []
    for name, (files, options, extra) in SITUATIONS.items():
        directory = root / name
        directory.mkdir()
        for file, text in files.items():
            (directory / file).write_text(text)
        if "pytest.ini" not in files:
            (directory / "pytest.ini").write_text("[pytest]\nmarkers = slow\n")
        cache = "" if "--sw" in options else "-p no:cacheprovider"  # stepwise keeps its place
        command = f"python -m pytest -q {cache} {options} ."
        lines += [f"[stages.{name}]", f"run = {json.dumps(command)}", f'cwd = "{name}"', extra]
    (root / "workflow.toml").write_text("\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    done = workflow(root, "run", "--lane", "heavy", "--no-history", "--format", "json", timeout=240)
    assert done.returncode == 1, done.stdout + done.stderr
    record_file = next((root / ".workflow" / "reports").glob("*/run.json"))
    record = json.loads(record_file.read_text())
    return {stage["name"]: stage for stage in record["stages"]}


@pytest.mark.parametrize(
    ("name", "not_run", "given"),
    [
        ("x_rerun", 2, 3),  # stopped at the flaky test: the broken one never ran
        ("maxfail", 2, 4),
        ("x_in_ini", 3, 4),
        ("stepwise", 3, 4),
        ("collection", 3, 3),  # no test runs after a collection error
        ("pytest_exit", 2, 4),
        ("interrupt", 2, 4),
    ],
)
def test_a_session_that_stopped_early_fails_naming_what_did_not_run(
    outcome: dict[str, dict[str, Any]], name: str, not_run: int, given: int
) -> None:
    stage = outcome[name]
    assert stage["status"] == "failed"
    assert f"{not_run} of {given} tests did not run" in stage["error"]
    assert stage["tests"]["not_run"] == not_run
    assert stage["tests"]["reruns"] == 0  # tests that never ran are not flaky


def test_the_flaky_first_test_does_not_rescue_a_run_that_stopped_at_it(
    outcome: dict[str, dict[str, Any]],
) -> None:
    stage = outcome["x_rerun"]
    assert stage["tests"]["total"] == 1  # the flaky test alone ran
    assert "stopping after 1 failures" in stage["error"]


@pytest.mark.parametrize(("name", "given"), [("segfault", 4), ("os_exit", 4), ("timeout", 4)])
def test_a_session_that_never_ended_fails_naming_the_test_it_was_in(
    outcome: dict[str, dict[str, Any]], name: str, given: int
) -> None:
    stage = outcome[name]
    assert stage["status"] == ("timeout" if name == "timeout" else "failed")
    assert f"while test_a.py::test_ends ran: 2 of {given} tests never started" in stage["error"]


def test_an_import_error_in_a_conftest_is_no_pass(outcome: dict[str, dict[str, Any]]) -> None:
    stage = outcome["conftest"]
    assert stage["status"] == "failed"
    assert "none is known to have run" in stage["error"]


def test_tests_the_user_deselected_are_not_owed(outcome: dict[str, dict[str, Any]]) -> None:
    stage = outcome["deselected"]
    assert (stage["status"], stage["error"]) == ("passed", None)
    assert (stage["tests"]["total"], stage["tests"]["not_run"]) == (1, 0)
