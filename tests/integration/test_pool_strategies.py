"""AdaptiveWorkerPool with real processes: strategies, callables, adaptive admission, niceness."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import StageStatus
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


# A stage that proves what the scheduler decided, whatever the machine's speed. It fails at
# once unless one of $AFTER has already ended (so it was admitted only after one of them
# finished), marks its start, waits until every stage in $MEET has started (so they were
# admitted together: none of them can end before all are running), then marks its end.
# A wrong decision fails a stage at once, or after the 30 s deadline.
HANDSHAKE = py(
    "import os, pathlib, sys, time\n"
    "d = pathlib.Path(os.environ['HANDSHAKE_DIR'])\n"
    "me, meet, after = os.environ['WORKFLOW_STAGE'], os.environ['MEET'].split(), "
    "os.environ['AFTER'].split()\n"
    "if after and not any((d / f'{n}.ended').exists() for n in after):\n"
    "    sys.exit(f'{me} started while none of {after} had ended')\n"
    "(d / f'{me}.started').touch()\n"
    "deadline = time.monotonic() + 30\n"
    "while not all((d / f'{n}.started').exists() for n in meet):\n"
    "    if time.monotonic() > deadline:\n"
    "        sys.exit(f'{me} never ran beside all of {meet}')\n"
    "    time.sleep(0.01)\n"
    "(d / f'{me}.ended').touch()\n"
)


def handshake(directory: Path, *, meet: str = "", after: str = "") -> dict[str, str]:
    """The environment of a HANDSHAKE stage: stage names separated by spaces."""
    return {"HANDSHAKE_DIR": str(directory), "MEET": meet, "AFTER": after}


def test_adaptive_admits_cpu_bound_stages_up_to_the_cores(tmp_path: Path) -> None:
    # The two longest CPU-bound stages start at once; the third waits for a core; the I/O
    # stage overlaps them. Each stage checks its part of that (see HANDSHAKE).
    together = handshake(tmp_path, meet="cpu0 cpu1 io")
    specs = [
        StageSpec("cpu0", 0, command=HANDSHAKE, kind="cpu", expected_s=10.0, env=together),
        StageSpec("cpu1", 1, command=HANDSHAKE, kind="cpu", expected_s=9.0, env=together),
        StageSpec(
            "cpu2",
            2,
            command=HANDSHAKE,
            kind="cpu",
            expected_s=8.0,
            env=handshake(tmp_path, after="cpu0 cpu1"),
        ),
        StageSpec("io", 9, command=HANDSHAKE, kind="io", env=together),
    ]
    records = run(specs, tmp_path, usable_cpus=2.0, initial_size=4)
    logs = {name: (tmp_path / "logs" / f"{name}.log").read_text() for name in records}
    assert {name: record.status for name, record in records.items()} == dict.fromkeys(
        records, StageStatus.PASSED
    ), logs


def test_longest_expected_starts_first(tmp_path: Path) -> None:
    specs = [
        StageSpec(name, n, command=py("print(1)"), expected_s=expected, kind="cpu")
        for n, (name, expected) in enumerate([("short", 1.0), ("long", 50.0), ("mid", 9.0)])
    ]
    records = run(specs, tmp_path, strategy=Strategy.ADAPTIVE, initial_size=1)
    order = sorted(records.values(), key=lambda r: r.start_offset_s)
    assert [r.name for r in order] == ["long", "mid", "short"]


def test_stages_that_end_well_before_the_longest_yield_the_cpu(tmp_path: Path) -> None:
    # Each stage prints its own niceness and that of a child it starts afterwards (as tools
    # that start workers do). It first waits until it has the niceness $WANT the pool should
    # give it: the pool lowers the priority just after the process starts, and how soon that
    # is depends on the machine's load. Each print is flushed and the words are read as
    # pairs, so which process's line reached the log first does not matter.
    report = py(
        "import os, subprocess, sys, time\n"
        "deadline = time.monotonic() + 30\n"
        "while os.getpriority(os.PRIO_PROCESS, 0) < int(os.environ['WANT']):\n"
        "    if time.monotonic() > deadline: break\n"
        "    time.sleep(0.01)\n"
        "print('own', os.getpriority(os.PRIO_PROCESS, 0), flush=True)\n"
        "subprocess.run([sys.executable, '-c', "
        "'import os; print(\\'child\\', os.getpriority(os.PRIO_PROCESS, 0), flush=True)'], "
        "check=True)\n"
    )
    base = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = max(base, 10)
    normal, yields = {"WANT": str(base)}, {"WANT": str(lowered)}
    specs = [
        StageSpec("long", 2, command=report, kind="cpu", expected_s=30.0, env=normal),
        StageSpec("short", 3, command=report, kind="cpu", expected_s=2.0, env=yields),
        StageSpec("close", 4, command=report, kind="cpu", expected_s=29.0, env=normal),
        StageSpec("unknown", 5, command=report, kind="cpu", env=normal),
        StageSpec("waits", 6, command=report, kind="io", expected_s=1.0, env=normal),
    ]
    records = run(specs, tmp_path, usable_cpus=8.0, initial_size=5)

    def printed(name: str) -> dict[str, int]:
        words = (tmp_path / "logs" / f"{name}.log").read_text().split()
        return {key: int(value) for key, value in zip(words[::2], words[1::2], strict=True)}

    assert records["short"].nice == 10
    assert printed("short") == {"own": lowered, "child": lowered}
    # the longest, one that ends about with it, one of unknown length and an I/O-bound one
    # keep the normal priority
    for name in ("long", "close", "unknown", "waits"):
        assert records[name].nice == 0, name
        assert printed(name) == {"own": base, "child": base}, name


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
