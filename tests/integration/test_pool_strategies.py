"""AdaptiveWorkerPool with real processes: strategies, callables, adaptive admission, niceness."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import StageRecord, StageStatus
from tests.integration.pooling import STAGEFUNCS, py, run

FIVE = [
    StageSpec("lint", 2, command=py("print('lint')"), kind="cpu"),
    StageSpec("types", 3, call=f"{STAGEFUNCS}:passes", kind="cpu"),
    StageSpec("unit", 4, call=f"{STAGEFUNCS}:raises", kind="io"),
    StageSpec("integration", 5, command=py("raise SystemExit(1)"), needs=("lint",)),
    StageSpec("security", 6, command=("no-such-scanner",), needs=("unit",)),
]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_all_strategies_reach_the_same_statuses(strategy: Strategy, tmp_path: Path) -> None:
    records = run(FIVE, tmp_path, strategy=strategy, initial_size=3)
    assert {n: r.status for n, r in records.items()} == {
        "lint": StageStatus.PASSED,
        "types": StageStatus.PASSED,
        "unit": StageStatus.FAILED,
        "integration": StageStatus.FAILED,
        "security": StageStatus.SKIPPED,
    }
    assert records["unit"].error is not None
    assert records["unit"].error.endswith("ValueError: bad input")
    executors = {r.executor for r in records.values() if r.attempts}
    expected = {
        Strategy.SEQUENTIAL: {"inline"},
        Strategy.THREAD: {"thread"},
        Strategy.PROCESS: {"process"},
    }.get(strategy, {"process", "thread"})
    assert executors == expected


@pytest.mark.parametrize(
    ("function", "status", "error"),
    [
        ("passes", StageStatus.PASSED, None),
        ("returns_false", StageStatus.FAILED, "returned False"),
        ("returns_three", StageStatus.FAILED, "returned 3"),
        ("raises", StageStatus.FAILED, "the stage raised ValueError: bad input"),
        ("missing", StageStatus.ERROR, f"{STAGEFUNCS} has no attribute missing"),
    ],
)
@pytest.mark.parametrize("strategy", [Strategy.THREAD, Strategy.PROCESS])
def test_callable_outcomes(
    function: str, status: StageStatus, error: str | None, strategy: Strategy, tmp_path: Path
) -> None:
    records = run([StageSpec("s", 2, call=f"{STAGEFUNCS}:{function}")], tmp_path, strategy=strategy)
    assert records["s"].status is status
    if error is None:
        assert records["s"].error is None
        assert "callable stage ran" in (tmp_path / "logs" / "s.log").read_text()
    else:
        assert records["s"].error is not None
        assert records["s"].error.endswith(error.removeprefix("the stage raised "))


def test_process_callable_cpu_is_measured(tmp_path: Path) -> None:
    spec = StageSpec("burn", 2, call=f"{STAGEFUNCS}:burns_cpu", kind="cpu")
    records = run([spec], tmp_path, strategy=Strategy.PROCESS)
    assert records["burn"].executor == "process"
    assert records["burn"].cpu_seconds >= 0.45


def test_nested_fan_out_does_not_deadlock(tmp_path: Path) -> None:
    specs = [StageSpec(f"fan{i}", i, call=f"{STAGEFUNCS}:fans_out") for i in range(5)]
    started = time.monotonic()
    records = run(specs, tmp_path, strategy=Strategy.THREAD, initial_size=4)
    assert time.monotonic() - started < 60
    assert all(r.status is StageStatus.PASSED for r in records.values())


def test_stages_get_their_share_of_cores(tmp_path: Path) -> None:
    code = (
        "import os; print(os.environ['WORKFLOW_CPUS'], os.environ['OMP_NUM_THREADS'], "
        "os.environ['PYTEST_XDIST_AUTO_NUM_WORKERS'], os.environ['WORKFLOW_STAGE'])"
    )
    specs = [StageSpec(f"s{i}", i, command=py(code), kind="cpu") for i in range(4)]
    # Values the user set are kept; drop any inherited ones (e.g. when run by workflow itself).
    inherited = ("WORKFLOW_CPUS", "OMP_NUM_THREADS", "PYTEST_XDIST_AUTO_NUM_WORKERS")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    run(specs, tmp_path, usable_cpus=4.0, initial_size=2, strategy=Strategy.THREAD, base_env=env)
    assert (tmp_path / "logs" / "s1.log").read_text().split() == ["2", "2", "2", "s1"]


def test_adaptive_admits_cpu_bound_stages_up_to_the_cores(tmp_path: Path) -> None:
    sleep = py("import time; time.sleep(0.3)")
    specs = [
        StageSpec(f"cpu{i}", i, command=sleep, kind="cpu", expected_s=float(10 - i))
        for i in range(3)
    ] + [StageSpec("io", 9, command=sleep, kind="io")]
    records = run(specs, tmp_path, usable_cpus=2.0, initial_size=4)

    def overlap(a: StageRecord, b: StageRecord) -> bool:
        return a.start_offset_s < b.start_offset_s + b.duration_s - 0.02 and (
            b.start_offset_s < a.start_offset_s + a.duration_s - 0.02
        )

    cpu = [records[f"cpu{i}"] for i in range(3)]
    # the two longest start at once; the third waits for a core; the I/O stage overlaps
    assert overlap(cpu[0], cpu[1])
    assert not overlap(cpu[2], cpu[0]) or not overlap(cpu[2], cpu[1])
    assert cpu[2].start_offset_s >= min(c.start_offset_s + c.duration_s for c in cpu[:2]) - 0.05
    assert overlap(records["io"], cpu[0])


def test_longest_expected_starts_first(tmp_path: Path) -> None:
    specs = [
        StageSpec(name, n, command=py("print(1)"), expected_s=expected, kind="cpu")
        for n, (name, expected) in enumerate([("short", 1.0), ("long", 50.0), ("mid", 9.0)])
    ]
    records = run(specs, tmp_path, strategy=Strategy.ADAPTIVE, initial_size=1)
    order = sorted(records.values(), key=lambda r: r.start_offset_s)
    assert [r.name for r in order] == ["long", "mid", "short"]


def test_stages_that_end_well_before_the_longest_yield_the_cpu(tmp_path: Path) -> None:
    # Each stage prints its own niceness and its child's (forked after a moment, as tools
    # that start workers do).
    report = py(
        "import os, subprocess, sys, time; time.sleep(0.2); "
        "print('own', os.getpriority(os.PRIO_PROCESS, 0)); "
        "subprocess.run([sys.executable, '-c', "
        "'import os; print(\\'child\\', os.getpriority(os.PRIO_PROCESS, 0))'], check=True)"
    )
    specs = [
        StageSpec("long", 2, command=report, kind="cpu", expected_s=30.0),
        StageSpec("short", 3, command=report, kind="cpu", expected_s=2.0),
        StageSpec("close", 4, command=report, kind="cpu", expected_s=29.0),
        StageSpec("unknown", 5, command=report, kind="cpu"),
        StageSpec("waits", 6, command=report, kind="io", expected_s=1.0),
    ]
    records = run(specs, tmp_path, usable_cpus=8.0, initial_size=5)
    base = os.getpriority(os.PRIO_PROCESS, 0)

    def printed(name: str) -> list[str]:
        return (tmp_path / "logs" / f"{name}.log").read_text().split()

    assert records["short"].nice == 10
    assert printed("short") == ["own", str(max(base, 10)), "child", str(max(base, 10))]
    # the longest, one that ends about with it, one of unknown length and an I/O-bound one
    # keep the normal priority
    for name in ("long", "close", "unknown", "waits"):
        assert records[name].nice == 0, name
        assert printed(name) == ["own", str(base), "child", str(base)], name


def test_other_strategies_never_lower_priority(tmp_path: Path) -> None:
    specs = [
        StageSpec("long", 2, command=py("pass"), kind="cpu", expected_s=30.0),
        StageSpec("short", 3, command=py("pass"), kind="cpu", expected_s=2.0),
    ]
    records = run(specs, tmp_path, strategy=Strategy.PROCESS, initial_size=2)
    assert [records[n].nice for n in ("long", "short")] == [0, 0]


def test_hundred_megabytes_of_output_lose_no_byte(tmp_path: Path) -> None:
    code = (
        "import sys\nline = b'x' * 1023 + b'\\n'\n"
        "for _ in range(100 * 1024): sys.stdout.buffer.write(line)"
    )
    records = run([StageSpec("loud", 2, command=py(code))], tmp_path)
    assert records["loud"].status is StageStatus.PASSED
    assert (tmp_path / "logs" / "loud.log").stat().st_size == 100 * 1024 * 1024
