"""Benchmark what per-test results cost: JUnit writing plus parsing on a 2,000-test stage.

    python bench/bench_junit.py [--runs N] [--tests N]

A generated suite of N trivial tests (default 2,000) runs under pytest in a temporary
directory, alternately (a) as a plain stage and (b) as workflow runs a pytest stage: with
the `--junit-xml`/`junit_family=xunit1` options added, then the file read into the
stage's tests summary (`engine.junit.read_junit`, `model.testresults.summarize`). The
order alternates each round so drifting background load falls on both. Reported: the
median wall of each over `--runs` rounds (default 5), and the median of the paired
ratios (b / a within one round), which is what the 2% target is judged on.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestrator.engine.junit import read_junit
from orchestrator.model.testresults import summarize

TARGET = 0.02


def make_suite(root: Path, tests: int) -> None:
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "tests").mkdir()
    per_file = 100
    for start in range(0, tests, per_file):
        body = "".join(
            f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n\n"
            for i in range(start, min(tests, start + per_file))
        )
        (root / "tests" / f"test_{start // per_file:03d}.py").write_text(body)


def plain(root: Path) -> float:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    started = time.perf_counter()
    subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def with_junit(root: Path, tests: int) -> float:
    junit = root / "junit.xml"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    argv += [f"--junit-xml={junit}", "-o", "junit_family=xunit1"]
    started = time.perf_counter()
    subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, check=True)
    cases = read_junit(junit, pytest=True)
    if cases is None or summarize(cases).total != tests:
        raise SystemExit(f"{junit}: expected {tests} tests in the JUnit file")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-junit-") as scratch:
        root = Path(scratch)
        make_suite(root, args.tests)
        plain(root)  # warm-up: bytecode caches, the file system's caches
        walls: dict[str, list[float]] = {"plain": [], "junit": []}
        ratios = []
        for round_ in range(args.runs):
            order = ["plain", "junit"] if round_ % 2 == 0 else ["junit", "plain"]
            took = {
                name: plain(root) if name == "plain" else with_junit(root, args.tests)
                for name in order
            }
            for name, wall in took.items():
                walls[name].append(wall)
            ratios.append(took["junit"] / took["plain"])
    a, b = statistics.median(walls["plain"]), statistics.median(walls["junit"])
    ratio = statistics.median(ratios)
    print(f"{args.tests} tests, {args.runs} rounds")
    print(f"plain pytest:           median {a:.3f}s  {[round(w, 3) for w in walls['plain']]}")
    print(f"with JUnit + parsing:   median {b:.3f}s  {[round(w, 3) for w in walls['junit']]}")
    print(f"paired ratio (median):  {ratio:.4f} ({ratio - 1:+.2%}; target at most +{TARGET:.0%})")
    return 0 if ratio - 1 <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
