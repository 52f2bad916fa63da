"""After a stage's command: read its JUnit file, and run its failed tests alone again.

`rerun_failed = N` never reruns the whole stage: pytest is given the failed tests' node
ids in an `@file` (pytest 8.2 and later read arguments from one), up to N times, each
time only the tests still failing. A test that then passes is flaky; when every failed
test passed on a rerun, the stage passes and its summary names them (DESIGN.md,
"Per-test results").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.junit import JunitTarget, read_junit
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
            ids.write_text("".join(f"{test}\n" for test in remaining), encoding="utf-8")
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


def rerun_argv(argv: tuple[str, ...], ids: Path, junit: Path, cwd: Path) -> tuple[str, ...]:
    """`argv` without its test paths and JUnit options, for the tests listed in `ids`.

    A positional argument is dropped when it names something under `cwd` (a directory,
    file or node id): the ids select the tests instead. Options and their values stay.
    """
    start = 3 if argv[1:3] == ("-m", "pytest") else 1
    kept: list[str] = list(argv[:start])
    rest = list(argv[start:])
    index = 0
    while index < len(rest):
        arg = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else ""
        if arg in ("--junit-xml", "--junitxml") or (
            arg == "-o" and following.startswith("junit_family=")
        ):
            index += 2  # the option and its value
            continue
        index += 1
        if arg in _VALUE_OPTIONS and following:
            kept += [arg, following]  # e.g. `-c pytest.ini`: a path that is not a test
            index += 1
            continue
        if arg.startswith(("--junit-xml=", "--junitxml=")):
            continue
        if not arg.startswith("-") and (cwd / arg.split("::")[0]).exists():
            continue
        kept.append(arg)
    return (*kept, f"--junit-xml={junit}", "-o", "junit_family=xunit1", f"@{ids}")


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
