"""AdaptiveWorkerPool with real processes: statuses, measurements, trees, scheduling."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.engine.pool import AdaptiveWorkerPool, StageEvent
from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import StageRecord, StageStatus

PY = sys.executable
STAGEFUNCS = "tests.integration.stagefuncs"
ROOT = Path(__file__).parents[2]


def py(code: str) -> tuple[str, ...]:
    return (PY, "-c", code)


def run(specs: list[StageSpec], tmp_path: Path, **options: object) -> dict[str, StageRecord]:
    pool = AdaptiveWorkerPool(log_dir=tmp_path / "logs", import_root=ROOT, **options)  # type: ignore[arg-type]
    for spec in specs:
        pool.submit(spec)
    try:
        pool.wait_all()
    finally:
        pool.shutdown()
    return {record.name: record for record in pool.results}


def test_seed_api_submit_wait_metrics(tmp_path: Path) -> None:
    pool = AdaptiveWorkerPool(Strategy.THREAD, 2, log_dir=tmp_path / "logs")
    pool.submit_stage(2, "lint", [PY, "-c", "print('ok')"])
    pool.submit_stage(3, "types", ["sh", "-c", "exit 4"])
    success, errors = pool.wait_all()
    pool.shutdown()
    assert success is False
    assert errors == ["stage 3 types: failed: exited with code 4"]
    metrics = pool.metrics.to_dict()
    assert metrics["completed"] == 1
    assert metrics["total"] == 2
    assert metrics["throughput_tasks_per_s"] > 0


def test_grandchild_ignoring_sigterm_is_gone_after_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The grandchild writes its pid only once it ignores SIGTERM and has left the group, and
    # the stage waits for that, so the timeout always meets the hard case. The timeout is
    # generous because two Python start-ups must fit in it on a loaded machine.
    detached = (
        "import os, pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"os.setsid(); pathlib.Path({str(pid_file)!r} + '.tmp').write_text(str(os.getpid())); "
        f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r}); time.sleep(300)"
    )
    code = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"subprocess.Popen([sys.executable, '-c', {detached!r}])\n"
        f"while not os.path.exists({str(pid_file)!r}): time.sleep(0.01)\n"
        "print('started', flush=True)\n"
        "time.sleep(300)\n"
    )
    spec = StageSpec("hang", 2, command=py(code), timeout=4.0, kill_grace=0.5)
    records = run([spec, StageSpec("other", 3, command=py("print('fine')"))], tmp_path)
    hang = records["hang"]
    assert hang.status is StageStatus.TIMEOUT
    assert hang.exit_code == 124
    assert records["other"].status is StageStatus.PASSED
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != "zombie"
    assert not alive, "the grandchild that left the group and ignored SIGTERM survived"
    assert "started" in (tmp_path / "logs" / "hang.log").read_text()


def test_cpu_of_a_grandchild_is_counted(tmp_path: Path) -> None:
    burn = "import time\nend = time.process_time() + 2\nwhile time.process_time() < end: pass"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}], check=True)"
    records = run([StageSpec("burn", 2, command=py(code))], tmp_path)
    record = records["burn"]
    assert record.status is StageStatus.PASSED
    assert record.cpu_seconds >= 1.8
    # The share of a core the tree got depends on the machine's load; that the percentage
    # is the tree's CPU over the stage's wall time does not.
    assert record.cpu_percent == pytest.approx(
        100 * record.cpu_seconds / record.duration_s, rel=0.05
    )


def test_peak_rss_covers_the_tree(tmp_path: Path) -> None:
    hold = "x = bytearray(150 * 1024 * 1024); import time; time.sleep(1.0)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {hold!r}])"
    records = run([StageSpec("mem", 2, command=py(code))], tmp_path)
    assert records["mem"].peak_rss_bytes >= 150 * 1024 * 1024


def test_missing_command_is_an_error_and_others_go_on(tmp_path: Path) -> None:
    records = run(
        [
            StageSpec("ghost", 2, command=("no-such-tool-xyz", "--flag")),
            StageSpec("real", 3, command=py("print(1)")),
        ],
        tmp_path,
    )
    assert records["ghost"].status is StageStatus.ERROR
    assert records["ghost"].error == "command not found: no-such-tool-xyz"
    assert records["real"].status is StageStatus.PASSED


def test_needs_skip_after_a_failure(tmp_path: Path) -> None:
    records = run(
        [
            StageSpec("lint", 2, command=py("raise SystemExit(1)")),
            StageSpec("unit", 3, command=py("print(1)"), needs=("lint",)),
            StageSpec("deploy", 4, command=py("print(1)"), needs=("unit",)),
            StageSpec("free", 5, command=py("print(1)")),
        ],
        tmp_path,
    )
    assert records["lint"].status is StageStatus.FAILED
    assert records["unit"].status is StageStatus.SKIPPED
    assert records["unit"].error == "needs lint, which did not pass"
    assert records["deploy"].status is StageStatus.SKIPPED
    assert records["free"].status is StageStatus.PASSED


def test_needs_order_the_start(tmp_path: Path) -> None:
    records = run(
        [
            StageSpec("first", 2, command=py("import time; time.sleep(0.3)")),
            StageSpec("second", 3, command=py("print(1)"), needs=("first",)),
        ],
        tmp_path,
        initial_size=4,
    )
    first, second = records["first"], records["second"]
    assert second.start_offset_s >= first.start_offset_s + first.duration_s - 0.01


def test_fail_fast_cancels_the_rest(tmp_path: Path) -> None:
    records = run(
        [
            StageSpec("slow", 2, command=py("import time; time.sleep(30)")),
            StageSpec("broken", 3, command=py("raise SystemExit(2)")),
            StageSpec("later", 4, command=py("print(1)"), needs=("broken",)),
        ],
        tmp_path,
        initial_size=2,
        fail_fast=True,
        strategy=Strategy.THREAD,
    )
    assert records["broken"].status is StageStatus.FAILED
    assert records["slow"].status is StageStatus.CANCELLED
    assert records["slow"].duration_s < 20
    assert records["later"].status is StageStatus.CANCELLED


@pytest.mark.parametrize("strategy", [Strategy.SEQUENTIAL, Strategy.THREAD])
def test_a_stage_starting_as_the_run_is_cancelled_is_ended_too(
    strategy: Strategy, tmp_path: Path
) -> None:
    # Fail-fast or Ctrl-C can come between a stage's start and the moment its process is
    # watched (a busy machine makes that window long); the stage must still be ended. Here
    # the cancel comes from the stage's own start event, before its process exists.
    pool = AdaptiveWorkerPool(strategy, 1, log_dir=tmp_path / "logs")

    def cancel_on_start(event: StageEvent) -> None:
        if event.kind == "start":
            pool.cancel()

    pool.on_event = cancel_on_start
    pool.submit(StageSpec("slow", 2, command=py("import time; time.sleep(60)"), kill_grace=1))
    try:
        pool.wait_all()
    finally:
        pool.shutdown()
    (record,) = pool.results
    assert record.status is StageStatus.CANCELLED
    assert record.duration_s < 30


def test_retries_with_backoff_record_attempts(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    code = (
        f"from pathlib import Path; p = Path({str(counter)!r}); "
        "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); "
        "raise SystemExit(0 if n >= 3 else 1)"
    )
    records = run(
        [
            StageSpec("flaky", 2, command=py(code), retries=3),
            StageSpec("hopeless", 3, command=py("raise SystemExit(1)"), retries=1),
        ],
        tmp_path,
    )
    assert records["flaky"].status is StageStatus.PASSED
    assert records["flaky"].attempts == 3
    assert records["hopeless"].status is StageStatus.FAILED
    assert records["hopeless"].attempts == 2
    log = (tmp_path / "logs" / "flaky.log").read_text()
    assert "attempt 3" in log


def test_serial_stage_runs_alone(tmp_path: Path) -> None:
    sleep = py("import time; time.sleep(0.4)")
    records = run(
        [
            StageSpec("a", 2, command=sleep),
            StageSpec("writer", 3, command=sleep, serial=True),
            StageSpec("b", 4, command=sleep),
            StageSpec("c", 5, command=sleep),
        ],
        tmp_path,
        initial_size=4,
        strategy=Strategy.THREAD,
    )
    writer = records["writer"]
    w_start, w_end = writer.start_offset_s, writer.start_offset_s + writer.duration_s
    for name in ("a", "b", "c"):
        other = records[name]
        o_start, o_end = other.start_offset_s, other.start_offset_s + other.duration_s
        assert o_end <= w_start + 0.02 or o_start >= w_end - 0.02, (name, records)


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
