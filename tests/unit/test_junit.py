"""JUnit files as real tools write them, the file a stage writes, and the tests summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.engine.pytest.junit import junit_target, read_junit, session_file
from orchestrator.engine.pytest.testpaths import placed
from orchestrator.engine.pytest.testrun import rerun_argv
from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.testresults import (
    MAX_FAILED_IDS,
    Outcome,
    TestCase,
    final_outcomes,
    summarize,
)

NESTED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="outer">
    <testsuite name="inner">
      <testcase classname="tests.test_a.TestThing" name="test_one[1]" file="tests/test_a.py"
                nodeid="tests/test_a.py::TestThing::test_one[1]" line="9" time="0.25"/>
      <testcase classname="tests.test_a" name="test_fails" file="tests/test_a.py" line="19"
                nodeid="tests/test_a.py::test_fails" time="1.5">
        <failure message="assert 1 == 2">def test_fails():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_a.py:21: AssertionError</failure>
      </testcase>
    </testsuite>
    <testcase classname="other" name="no_time"/>
    <testcase classname="other" name="skipped_msg" time="x">
      <skipped message="needs a GPU"/>
    </testcase>
    <testcase name="broke" time="0.1"><error message="fixture exploded"/></testcase>
  </testsuite>
</testsuites>
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_suites_missing_times_skips_and_errors_are_read(tmp_path: Path) -> None:
    cases = read_junit(write(tmp_path / "j.xml", NESTED))
    assert cases is not None
    by_id = {case.id: case for case in cases}
    assert list(by_id) == [
        "tests/test_a.py::TestThing::test_one[1]",
        "tests/test_a.py::test_fails",
        # No node id (not workflow's writer): named as the file names it, never guessed.
        "other::no_time",
        "other::skipped_msg",
        "broke",
    ]
    one = by_id["tests/test_a.py::TestThing::test_one[1]"]
    assert (one.outcome, one.duration_s, one.file, one.line) == (
        Outcome.PASSED,
        0.25,
        "tests/test_a.py",
        10,  # pytest counts lines from 0
    )
    failed = by_id["tests/test_a.py::test_fails"]
    assert failed.outcome is Outcome.FAILED
    assert failed.message is not None and failed.message.startswith("assert 1 == 2")
    # Where it failed, from the traceback (not where it starts), relative to the
    # repository root although pytest's rootdir is a directory below it.
    (tmp_path / ".git").mkdir()
    project = tmp_path / "backend"
    (placed_failure,) = [
        c for c in placed(cases, project, project) if c.id == "tests/test_a.py::test_fails"
    ]
    assert (placed_failure.file, placed_failure.line) == ("backend/tests/test_a.py", 21)
    assert by_id["other::no_time"].duration_s == 0.0
    skipped = by_id["other::skipped_msg"]
    assert (skipped.outcome, skipped.message, skipped.duration_s) == (
        Outcome.SKIPPED,
        "needs a GPU",
        0.0,
    )
    assert by_id["broke"].outcome is Outcome.ERROR


@pytest.mark.parametrize(
    "content",
    ["", "<testsuite><testcase name='a'>", "not xml at all", "<!DOCTYPE x [<!ENTITY e 'x'>]>"],
)
def test_a_broken_file_reads_as_no_results(tmp_path: Path, content: str) -> None:
    assert read_junit(write(tmp_path / "j.xml", content)) is None


def test_a_missing_file_reads_as_no_results(tmp_path: Path) -> None:
    assert read_junit(tmp_path / "crashed-before-writing.xml") is None


def test_a_file_left_by_an_earlier_run_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path / "j.xml", NESTED)
    os.utime(path, (1_000_000, 1_000_000))
    assert read_junit(path, not_before=2_000_000) is None
    assert read_junit(path, not_before=999_999) is not None


def test_a_huge_file_is_read_whole(tmp_path: Path) -> None:
    body = "".join(
        f'<testcase classname="t" name="c{i}" time="0.001"><system-out>{"x" * 200}'
        "</system-out></testcase>"
        for i in range(30_000)
    )
    cases = read_junit(write(tmp_path / "j.xml", f"<testsuite>{body}</testsuite>"))
    assert cases is not None and len(cases) == 30_000
    assert cases[-1].id == "t::c29999"


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "TOPSECRET")
    text = (
        f'<!DOCTYPE s [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<testsuite><testcase name="a"><failure message="m">&x;</failure></testcase></testsuite>'
    )
    cases = read_junit(write(tmp_path / "j.xml", text))
    assert cases is None or all("TOPSECRET" not in (c.message or "") for c in cases)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("pytest", "-q"), True),
        (("/venv/bin/py.test",), True),
        (("python3", "-m", "pytest", "tests"), True),
        (("/usr/bin/python3.11", "-m", "pytest"), True),
        (("python", "-m", "pip"), False),
        (("ruff", "check"), False),
        (("pytest-watch",), False),
        ((), False),
    ],
)
def test_pytest_is_recognised(argv: tuple[str, ...], expected: bool) -> None:
    assert is_pytest(argv) is expected


def test_a_pytest_stage_gets_workflows_writer_and_session_account(tmp_path: Path) -> None:
    default = tmp_path / "run" / "tests" / "unit.xml"
    target = junit_target(("pytest", "-q"), None, tmp_path, default)
    assert target.argv == (
        *("pytest", "-q", "-p", "workflow_junit", f"--workflow-junit={default}"),
        *("-p", "workflow_session", f"--workflow-session={session_file(default)}"),
    )
    assert (target.path, target.pytest) == (default, True)


def test_a_junit_file_the_command_names_is_written_and_workflow_reads_its_own(
    tmp_path: Path,
) -> None:
    # pytest's writer still writes the user's file (any family); workflow reads its own,
    # with node ids, so a `--junit-xml` in the command never costs reruns their ids.
    default = tmp_path / "d.xml"
    for argv in (("pytest", "--junitxml=out/r.xml"), ("pytest", "--junit-xml", "out/r.xml")):
        target = junit_target(argv, None, tmp_path, default)
        assert target.argv[: len(argv)] == argv
        assert (target.path, target.pytest) == (default, True)


def test_junit_false_and_declared_paths(tmp_path: Path) -> None:
    default = tmp_path / "d.xml"
    assert junit_target(("pytest",), False, tmp_path, default).path is None
    assert junit_target(("ruff", "check"), None, tmp_path, default).path is None
    declared = junit_target(("cargo", "nextest"), "target/junit.xml", tmp_path, default)
    assert declared == (("cargo", "nextest"), tmp_path / "target" / "junit.xml", False)


def test_a_rerun_runs_only_the_listed_tests(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    argv = (
        "python",
        "-m",
        "pytest",
        "-q",
        "-c",
        "pytest.ini",
        "tests",
        "tests::x",
        "--junit-xml=/old.xml",
        "-o",
        "junit_family=xunit1",
        "-k",
        "tests",
        "-p",
        "workflow_junit",
        "--workflow-junit=/older.xml",
        "-p",
        "workflow_session",
        "--workflow-session=/older.xml.session",
    )
    ids, junit = tmp_path / "ids", tmp_path / "r.xml"
    assert rerun_argv(argv, ids, junit, tmp_path) == (
        "python",
        "-m",
        "pytest",
        "-q",
        "-c",
        "pytest.ini",
        "-k",
        "tests",
        "-p",
        "workflow_junit",
        f"--workflow-junit={junit}",
        "-p",
        "workflow_session",
        f"--workflow-session={session_file(junit)}",
        f"@{ids}",
    )


def case(index: int, outcome: Outcome = Outcome.PASSED, duration: float = 0.1) -> TestCase:
    return TestCase(f"t.py::test_{index:03d}", outcome, duration)


def test_the_summary_counts_keeps_ten_slowest_and_fifty_failed() -> None:
    cases = [case(i, Outcome.FAILED if i < 60 else Outcome.PASSED, i / 100) for i in range(100)]
    cases.append(case(100, Outcome.SKIPPED, 0.0))
    summary = summarize(cases, flaky=["t.py::test_000"], reruns=1)
    assert (summary.total, summary.passed, summary.failed, summary.skipped) == (101, 41, 59, 1)
    assert [s.id for s in summary.slowest] == [f"t.py::test_{i:03d}" for i in range(99, 89, -1)]
    assert len(summary.failed_ids) == MAX_FAILED_IDS == len(summary.failures)
    assert "t.py::test_000" not in summary.failed_ids
    assert summary.flaky == ("t.py::test_000",)
    assert summary.duration_s == pytest.approx(sum(i / 100 for i in range(100)))


def test_the_history_keeps_the_flip() -> None:
    cases = [case(1, Outcome.FAILED), case(2, Outcome.FAILED)]
    kept = final_outcomes(cases, ["t.py::test_001"])
    assert [c.outcome for c in kept] == [Outcome.FLAKY, Outcome.FAILED]
