"""After a stage's command: read its JUnit file, and run its failed tests alone again.

`rerun_failed = N` never reruns the whole stage: pytest is given the failed tests' node
ids in an `@file` (pytest 8.2 and later read arguments from one), up to N times, each
time only the tests still failing. A test that then passes is flaky; when every failed
test passed on a rerun, the stage passes and its summary names them (DESIGN.md,
"Per-test results").
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.junit import (
    JunitTarget,
    pytest_junit_args,
    read_junit,
    without_junit,
)
from orchestrator.engine.spec import Attempt
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import Outcome, TestsSummary, summarize

# pytest options whose value is a separate argument that may name an existing path.
_VALUE_OPTIONS = frozenset(
    (
        *("-c", "--config-file", "--rootdir", "--confcutdir", "--basetemp", "-p", "-k", "-m"),
        *("-o", "--override-ini", "-W", "--ignore", "--ignore-glob", "--deselect", "--log-file"),
    )
)
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
    """Read the JUnit file the stage wrote (not before `since`, epoch seconds) and, for a
    failed pytest stage, rerun its failed tests; None summary: no (fresh) JUnit file."""
    if target.path is None:
        return TestsOutcome(None, first, ())
    cases = read_junit(target.path, not_before=since, pytest=target.pytest)
    if cases is None:
        return TestsOutcome(None, first, ())
    remaining = [case.id for case in cases if case.outcome.bad]
    flaky: list[str] = []
    reruns: list[Attempt] = []
    can_rerun = target.pytest and first.status is StageStatus.FAILED
    while can_rerun and remaining and len(reruns) < rerun.times:
        count = len(reruns) + 1
        junit = rerun.scratch.with_suffix(f".rerun{count}.xml")
        ids = rerun.scratch.with_suffix(f".rerun{count}.ids")
        try:
            ids.parent.mkdir(parents=True, exist_ok=True)
            listed = "".join(f"{from_cwd(test, rerun.cwd)}\n" for test in remaining)
            ids.write_text(listed, encoding="utf-8")
        except OSError:
            break  # nowhere to list the tests: the stage keeps its first outcome
        started = time.time()
        reruns.append(rerun.run(rerun_argv(target.argv, ids, junit, rerun.cwd)))
        again = read_junit(junit, not_before=started, pytest=True) or []
        passed = {case.id for case in again if case.outcome is Outcome.PASSED}
        flaky += [test for test in remaining if test in passed]
        remaining = [test for test in remaining if test not in passed]
    summary = replace(summarize(cases, flaky, reruns=len(reruns)), junit=str(target.path))
    final = first
    if reruns and not remaining:
        final = replace(reruns[-1], status=StageStatus.PASSED, exit_code=0, error=None)
    elif reruns:
        final = replace(first, error=_still_failing(remaining, flaky))
    return TestsOutcome(summary, final, tuple(reruns))


def from_cwd(test: str, cwd: Path) -> str:
    """A JUnit node id (its file relative to pytest's rootdir) as pytest, started in
    `cwd`, reads it: `tests/test_x.py::test_a` becomes `test_x.py::test_a` when `cwd` is
    `tests/` and the rootdir (where pyproject.toml or pytest.ini is) the directory above.

    The rootdir is the nearest of `cwd` and its parents that holds the id's file; an id
    whose file is found nowhere is kept as it is (pytest then names what it cannot find).
    """
    file, separator, rest = test.partition("::")
    for root in (cwd, *cwd.parents):
        if (root / file).is_file():
            return os.path.relpath(root / file, cwd) + separator + rest
    return test


def rerun_argv(argv: tuple[str, ...], ids: Path, junit: Path, cwd: Path) -> tuple[str, ...]:
    """`argv` without its test paths and JUnit options, for the tests listed in `ids`.

    A positional argument is dropped when it names something under `cwd` (a directory,
    file or node id): the ids select the tests instead. Options and their values stay.
    """
    argv = without_junit(argv)
    start = 3 if argv[1:3] == ("-m", "pytest") else 1
    kept: list[str] = list(argv[:start])
    rest = list(argv[start:])
    index = 0
    while index < len(rest):
        arg = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else ""
        index += 1
        if arg in _VALUE_OPTIONS and following:
            kept += [arg, following]  # e.g. `-c pytest.ini`: a path that is not a test
            index += 1
            continue
        if not arg.startswith("-") and (cwd / arg.split("::")[0]).exists():
            continue
        kept.append(arg)
    return (*kept, *pytest_junit_args(junit), f"@{ids}")


def _still_failing(remaining: list[str], flaky: list[str]) -> str:
    """The stage's one-line error: what failed on every rerun, and what was only flaky."""
    shown = ", ".join(remaining[:3]) + (
        f" and {len(remaining) - 3} more" if len(remaining) > 3 else ""
    )
    text = f"{len(remaining)} test(s) failed on every rerun: {shown}"
    if flaky:
        text += f"; flaky (passed on a rerun): {', '.join(flaky[:3])}"
        text += f" and {len(flaky) - 3} more" if len(flaky) > 3 else ""
    return text
