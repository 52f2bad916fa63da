"""Benchmark what per-test results cost: JUnit writing plus parsing on a 2,000-test stage.

    python bench/bench_junit.py [--runs N] [--tests N] [--work-ms MS]

Two generated suites of N tests (default 2,000) run under pytest in a temporary
directory: "trivial" (each test one assert) and "work" (each test about `--work-ms`
milliseconds of CPU work, default 1, calibrated on this machine). Each suite runs
alternately (a) as a plain stage and (b) as workflow runs a pytest stage: with the options
`engine.junit.pytest_junit_args` adds, then, in this process and after pytest has ended,
the file read into the stage's tests summary (`engine.junit.read_junit`,
`model.testresults.summarize`), which is where a pool worker reads it (`engine.stage`).
lxml is loaded before the rounds, as the run's helper thread loads it while the stages run
(`pipeline.finish.Finisher.prepare`). Each round runs a b b a (or b a a b), so a
drift of the machine's speed within the round falls on both alike. Reported per suite:
the median wall of each over `--runs` rounds (default 5), the median of the rounds'
ratios (b / a within one round: what the 2% target is judged on), the cost per test,
and what the parse and summary took here. The children run with bytecode writing on, so
the warm-up leaves the rewritten test modules cached and every measured run is a warm
one (the stricter baseline: a cold run spends about half a second more on assertion
rewriting, which dilutes the JUnit share; the earlier figure of +4.6% was measured that
way, with PYTHONDONTWRITEBYTECODE set).

What was learned (pytest 9.2, lxml 6, Python 3.11, 2 cores):
- pytest's own JUnit writer (`--junit-xml`) costs 50-60 us per test of hook work in
  `_pytest.junitxml` (a node reporter looked up for each of setup/call/teardown, node ids
  parsed twice per test, an ElementTree element per test). A trivial test costs about
  0.7 ms under pytest, so that writer adds about 8% there, and no ini option makes it
  cheaper (`junit_logging` is already "no"; xunit2 is no faster; `junit_duration_report
  = call` drops fixture time and is no faster within noise).
- So workflow writes the file with its own plugin (`engine/pytest/plugins/workflow_junit.py`,
  `-p workflow_junit --workflow-junit=PATH`): the same xunit1 file written once at the end
  (tests/integration/test_junit_writer.py checks that it reads back exactly as pytest's).
  A stage that names its own `--junit-xml` keeps pytest's.
- A hook of its own on every report still cost about 1% (three calls a test through
  pluggy, and a record kept per test): the plugin now reads the reports pytest's terminal
  reporter keeps anyway, once, at the session's end: about 8 ms for 2,000 tests to gather
  them (6,000 reports) and 6 ms to write the file, nothing during the tests.
- Our reading side is about 8 ms (read) + 1 ms (summary) for 2,000 tests: each test id's
  prefix worked out once per (classname, file), passing tests read without looking for
  a failure, the ten slowest picked with a partial selection. The lxml import (6 ms) is
  off the stage's path.
Both runs of a round get workflow's plugin directory on PYTHONPATH, as every pytest
stage does; only (b) loads the plugin.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.pytest.junit import load_lxml, pytest_junit_args, read_junit
from orchestrator.engine.pytest.plugins import PLUGIN_DIR
from orchestrator.model.testresults import summarize

TARGET = 0.02
PER_FILE = 100
_WORK = """
def _work():
    total = 0
    for i in range({loops}):
        total += i * i
    return total

"""


class Figures(NamedTuple):
    """One suite's medians (seconds), the paired ratio and the in-process parse time."""

    plain_s: list[float]
    junit_s: list[float]
    ratios: list[float]
    parse_s: list[float]


def work(loops: int) -> int:
    """The same loop as `_WORK`'s, to time here."""
    total = 0
    for i in range(loops):
        total += i * i
    return total


def calibrate(work_ms: float) -> int:
    """Loop iterations of `_WORK` that take about `work_ms` milliseconds here."""
    took = []
    for _ in range(5):
        started = time.perf_counter()
        work(100_000)
        took.append(time.perf_counter() - started)
    return max(1, int(100_000 * work_ms / 1000 / min(took)))


def make_suite(root: Path, tests: int, loops: int | None) -> None:
    """`tests` tests in files of 100; each calls `_work()` when `loops` is given."""
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "tests").mkdir()
    head = _WORK.format(loops=loops) if loops else ""
    call = "    _work()\n" if loops else ""
    for start in range(0, tests, PER_FILE):
        body = "".join(
            f"def test_{i}():\n{call}    assert {i} + 1 == {i + 1}\n\n"
            for i in range(start, min(tests, start + PER_FILE))
        )
        (root / "tests" / f"test_{start // PER_FILE:03d}.py").write_text(head + body)


def child_env() -> dict[str, str]:
    """The caller's environment with bytecode writing on (see the module docstring) and
    workflow's plugins on PYTHONPATH, as a pytest stage's environment has them."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(PLUGIN_DIR)}


# The stage both runs share; -p no:randomly: the workload as measured before
# pytest-randomly joined the dev extra.
PYTEST_ARGV: tuple[str, ...] = (sys.executable, "-m", "pytest", "-q")
PYTEST_ARGV += ("-p", "no:cacheprovider", "-p", "no:randomly", "tests")


def plain(root: Path) -> float:
    argv = list(PYTEST_ARGV)
    started = time.perf_counter()
    subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, check=True, env=child_env())
    return time.perf_counter() - started


def with_junit(root: Path, tests: int) -> tuple[float, float]:
    """(wall of the stage as workflow runs it, of which reading and summarising)."""
    junit = root / "junit.xml"
    argv = list(PYTEST_ARGV)
    argv += pytest_junit_args(junit)
    started = time.perf_counter()
    subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, check=True, env=child_env())
    ended = time.perf_counter()
    cases = read_junit(junit)
    if cases is None or summarize(cases).total != tests:
        raise SystemExit(f"{junit}: expected {tests} tests in the JUnit file")
    done = time.perf_counter()
    return done - started, done - ended


def bench_suite(root: Path, tests: int, runs: int) -> Figures:
    """Alternate plain and JUnit runs of the suite in `root`, `runs` rounds."""
    plain(root)  # warm-up: bytecode caches, the file system's caches
    figures = Figures([], [], [], [])
    for round_ in range(runs):
        # A B B A (or B A A B): a change of the machine's speed that is linear over the
        # round falls equally on both, so it cancels from the round's ratio.
        if round_ % 2 == 0:
            a1 = plain(root)
            b1, parse1 = with_junit(root, tests)
            b2, parse2 = with_junit(root, tests)
            a2 = plain(root)
        else:
            b1, parse1 = with_junit(root, tests)
            a1 = plain(root)
            a2 = plain(root)
            b2, parse2 = with_junit(root, tests)
        figures.plain_s.append((a1 + a2) / 2)
        figures.junit_s.append((b1 + b2) / 2)
        figures.ratios.append((b1 + b2) / (a1 + a2))
        figures.parse_s.append((parse1 + parse2) / 2)
    return figures


def report(title: str, tests: int, figures: Figures) -> bool:
    """Print one suite's figures; True when it meets the target."""
    a, b = statistics.median(figures.plain_s), statistics.median(figures.junit_s)
    ratio = statistics.median(figures.ratios)
    parse_ms = statistics.median(figures.parse_s) * 1000
    print(f"{title}: {tests} tests, {len(figures.ratios)} rounds")
    print(f"  plain pytest:          median {a:.3f}s  {[round(w, 3) for w in figures.plain_s]}")
    print(f"  with JUnit + parsing:  median {b:.3f}s  {[round(w, 3) for w in figures.junit_s]}")
    print(f"  of which parse+summary in workflow: median {parse_ms:.1f} ms")
    per_test = (b - a) / tests
    print(f"  cost per test: {per_test * 1e6:.0f} us (plain: {a / tests * 1e3:.2f} ms)")
    # The cost is per test, whatever the test does: the share is under the target once
    # the tests take this long on average (pytest's start-up aside).
    print(f"  the target holds for tests of {per_test / TARGET * 1e3:.1f} ms or more on average")
    met = ratio - 1 <= TARGET
    verdict = f"target +{TARGET:.0%}: {'met' if met else 'MISSED'}"
    print(f"  paired ratio (median): {ratio:.4f} ({ratio - 1:+.2%}; {verdict})")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--work-ms", type=float, default=1.0)
    args = parser.parse_args()
    load_lxml()  # as the run's helper thread does while the stages run
    loops = calibrate(args.work_ms)
    results = []
    for title, suite_loops in (("trivial", None), (f"work ({args.work_ms:g} ms/test)", loops)):
        with tempfile.TemporaryDirectory(prefix="bench-junit-") as scratch:
            make_suite(Path(scratch), args.tests, suite_loops)
            figures = bench_suite(Path(scratch), args.tests, args.runs)
        results.append(report(title, args.tests, figures))
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
