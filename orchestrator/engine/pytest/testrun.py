"""After a stage's command: read its JUnit file, and run its failed tests alone again.

`rerun_failed = N` never reruns the whole stage: pytest is given the failed tests' node
ids in an `@file` (pytest 8.2 and later read arguments from one), up to N times, each
time only the tests still failing. A test that then passes is flaky; when every failed
test passed on a rerun, the stage passes and its summary names them (DESIGN.md,
"Per-test results"). A pytest session that did not run every test it was given (its
account, `model/testsession.py`) fails the stage and is never rerun: tests that never
ran are not flaky ("Nothing incomplete passes"). A test a rerun did not find is said to
be so, never "failed on every rerun".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.pytest.junit import (
    JunitTarget,
    pytest_junit_args,
    read_junit,
    session_file,
    without_junit,
)
from orchestrator.engine.pytest.testpaths import placed, root_relative
from orchestrator.engine.spec import Attempt
from orchestrator.model.pytestargv import without_test_paths
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import Outcome, TestCase, TestsSummary, summarize
from orchestrator.model.testsession import SessionAccount, incomplete_error, parse_account

RunArgv = Callable[[tuple[str, ...]], Attempt]  # runs one more attempt with this argv


class TestsOutcome(NamedTuple):
    """The stage's tests, its final outcome, and the rerun attempts it took."""

    summary: TestsSummary | None
    attempt: Attempt  # PASSED when every failed test passed on a rerun
    reruns: tuple[Attempt, ...]


class Rerun(NamedTuple):
    """How reruns are made: how many, where their files go, how one is run."""

    times: int
    scratch: Path  # the stage's own JUnit file in the run's tests/ directory
    cwd: Path
    run: RunArgv


def collect_tests(
    target: JunitTarget, first: Attempt, rerun: Rerun, *, since: float
) -> TestsOutcome:
    """Read the JUnit file the stage wrote (not before `since`, epoch seconds) and the
    session's account; a pytest session that left tests unrun fails the stage; a failed
    one that ran everything has its failed tests rerun. None summary: no (fresh) file."""
    if target.path is None:
        return TestsOutcome(None, first, ())
    cases = read_junit(target.path, not_before=since)
    account = read_account(session_file(target.path), since) if target.pytest else None
    rootdir = Path(account.rootdir) if account and account.rootdir else rerun.cwd
    if cases is not None:
        cases = placed(cases, rootdir, rerun.cwd)
    if target.pytest and first.status is not StageStatus.ERROR:  # ERROR: it never started
        unfinished = incomplete_error(account, first.exit_code)
        if unfinished is not None:
            not_run = account.not_run if account is not None else 0
            return TestsOutcome(
                _summary(target, cases, rootdir, not_run), _failed(first, unfinished), ()
            )
    if cases is None:
        return TestsOutcome(None, first, ())
    remaining = [case.id for case in cases if case.outcome.bad]
    rerunnable = list(remaining)
    flaky: list[str] = []
    unfound: list[str] = []
    reruns: list[Attempt] = []
    can_rerun = target.pytest and first.status is StageStatus.FAILED
    while can_rerun and rerunnable and len(reruns) < rerun.times:
        count = len(reruns) + 1
        junit = rerun.scratch.with_suffix(f".rerun{count}.xml")
        ids = rerun.scratch.with_suffix(f".rerun{count}.ids")
        try:
            ids.parent.mkdir(parents=True, exist_ok=True)
            listed = "".join(f"{from_cwd(test, rerun.cwd, rootdir)}\n" for test in rerunnable)
            ids.write_text(listed, encoding="utf-8")
        except OSError:
            break  # nowhere to list the tests: the stage keeps its first outcome
        started = time.time()
        reruns.append(rerun.run(rerun_argv(target.argv, ids, junit, rerun.cwd)))
        again = read_junit(junit, not_before=started) or []
        seen = {case.id for case in again}
        passed = {case.id for case in again if case.outcome is Outcome.PASSED}
        flaky += [test for test in rerunnable if test in passed]
        unfound += [test for test in rerunnable if test not in seen]
        rerunnable = [test for test in rerunnable if test in seen and test not in passed]
    remaining = [test for test in remaining if test not in flaky]
    summary = replace(
        summarize(cases, flaky, reruns=len(reruns)),
        junit=str(target.path),
        rootdir=root_relative(rootdir) if target.pytest else None,
    )
    final = first
    if reruns and not remaining:
        final = replace(reruns[-1], status=StageStatus.PASSED, exit_code=0, error=None)
    elif reruns:
        final = replace(first, error=_still_failing(remaining, flaky, unfound))
    return TestsOutcome(summary, final, tuple(reruns))


def read_account(path: Path, since: float) -> SessionAccount | None:
    """The session's account written after `since` (epoch seconds), or None."""
    try:
        if path.stat().st_mtime < since:
            return None
        return parse_account(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def _summary(
    target: JunitTarget, cases: list[TestCase] | None, rootdir: Path, not_run: int
) -> TestsSummary | None:
    if cases is None:
        return None
    summary = summarize(cases)
    return replace(summary, junit=str(target.path), not_run=not_run, rootdir=root_relative(rootdir))


def _failed(first: Attempt, unfinished: str) -> Attempt:
    """The attempt of a session that left tests unrun: failed (a timeout or a cancel
    keeps its status), its error saying how many did not run."""
    error = f"{first.error}; {unfinished}" if first.error else unfinished
    if first.status in (StageStatus.PASSED, StageStatus.FAILED):
        return replace(first, status=StageStatus.FAILED, error=error)
    return replace(first, error=error)


def from_cwd(test: str, cwd: Path, rootdir: Path) -> str:
    """A node id (its file relative to pytest's `rootdir`) as pytest, started in `cwd`,
    reads it: `tests/test_x.py::test_a` becomes `test_x.py::test_a` when `cwd` is
    `tests/` and the rootdir the directory above."""
    file, separator, rest = test.partition("::")
    return os.path.relpath(rootdir / file, cwd) + separator + rest


def rerun_argv(argv: tuple[str, ...], ids: Path, junit: Path, cwd: Path) -> tuple[str, ...]:
    """`argv` without its test paths and JUnit options, for the tests listed in `ids`.

    A positional argument is dropped when it names something under `cwd` (a directory,
    file or node id): the ids select the tests instead. Options and their values stay.
    """
    kept = without_test_paths(without_junit(argv), lambda arg: (cwd / arg.split("::")[0]).exists())
    return (*kept, *pytest_junit_args(junit), f"@{ids}")


def _still_failing(remaining: list[str], flaky: list[str], unfound: list[str]) -> str:
    """The stage's one-line error: what failed on every rerun, what no rerun found (and so
    never ran again), and what was only flaky."""
    again = [test for test in remaining if test not in unfound]
    parts = []
    if again:
        parts.append(f"{len(again)} test(s) failed on every rerun: {_some(again)}")
    if unfound:
        parts.append(f"{len(unfound)} failed test(s) not found by their rerun: {_some(unfound)}")
    if flaky:
        parts.append(f"flaky (passed on a rerun): {_some(flaky)}")
    return "; ".join(parts)


def _some(tests: list[str]) -> str:
    return ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
