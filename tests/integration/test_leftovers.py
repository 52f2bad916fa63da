"""No process outlives its run: escaped daemons end with their stage, and with workflow.

Real processes throughout; survivors are looked up with psutil. A zombie counts as gone
(it runs nothing; reaping it is its parent's business, and this machine's init may be slow
to do so). Deadlines are generous and polled, never slept through.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from orchestrator.engine.pool import AdaptiveWorkerPool, StageEvent
from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.status import StageStatus
from tests.integration.command import workflow

PY = sys.executable
KILL_GRACE_S = 1.0
SLACK_S = 10.0  # a loaded two-core machine: processes start late, signals land late

# A daemon the textbook way: fork, setsid, fork again; the middle process exits at once.
# It ignores SIGTERM (so only the escalation to SIGKILL ends it), writes "pid create_time"
# to the file named in argv[1], then prints to its inherited stdout (the stage's log pipe).
SERVER = """
import os, signal, sys, time, psutil
if os.fork() > 0:
    sys.exit(0)
os.setsid()
if os.fork() > 0:
    os._exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
me = psutil.Process()
with open(sys.argv[1] + ".sid", "w") as f:
    f.write(str(os.getsid(0)))  # the daemon's session: it and the middle process
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{me.pid} {me.create_time()}")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    print("server tick", flush=True)
    time.sleep(0.05)
"""

# The stage: starts the server and waits until it runs; then, if argv[2] names a file,
# records itself there and sleeps (a stage still running when workflow is killed).
STAGE = """
import os, subprocess, sys, time, psutil
server_file = sys.argv[1]
subprocess.run([sys.executable, "server.py", server_file], check=True)
while not os.path.exists(server_file):
    time.sleep(0.02)
if len(sys.argv) > 2:
    me = psutil.Process()
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(f"{me.pid} {me.create_time()}")
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    time.sleep(600)
print("stage done", flush=True)
"""


def project(tmp_path: Path, *argv: str) -> Path:
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "stage.py").write_text(STAGE)
    run = ", ".join(json.dumps(part) for part in (PY, "stage.py", *argv))
    (tmp_path / "workflow.toml").write_text(
        '[workflow]\nreports = "reports"\nhistory = ""\n\n'
        f"[stages.daemon]\nnumber = 2\nrun = [{run}]\nkill_grace = {KILL_GRACE_S}\n"
        "timeout = 900\n"
    )
    return tmp_path


def identity(path: Path) -> tuple[int, float]:
    pid, created = path.read_text().split()
    return int(pid), float(created)


def running(pid: int, created: float) -> bool:
    """Whether that very process (not a later one with its pid) still runs."""
    try:
        process = psutil.Process(pid)
        return (
            abs(process.create_time() - created) < 0.01 and process.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.NoSuchProcess:
        return False


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_double_forked_server_ends_with_its_stage_and_does_not_hold_the_run(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, "server.pid")
    result = workflow(root, "run", "--lane", "heavy")
    assert result.returncode == 0, result.stdout + result.stderr
    server = identity(root / "server.pid")
    # The stage ended it (TERM ignored, so KILL after the grace) before the run was over.
    assert not running(*server), "the double-forked server outlived its run"
    assert "write to closed file" not in result.stderr
    assert "Traceback" not in result.stderr
    (record_path,) = (root / "reports").glob("*/run.json")
    record = json.loads(record_path.read_text())
    assert record["stages"][0]["status"] == "passed"
    # The server never exits on its own and holds the log pipe: a run that waited for the
    # pipe's end would not end at all. The bound is far from anything a loaded machine does.
    assert record["pool"]["total_duration_s"] < 60
    log = next((root / "reports").glob("*/logs/daemon.log")).read_text()
    assert "server tick" in log
    assert "stage done" in log


def test_kill_minus_9_of_workflow_leaves_no_stage_process(tmp_path: Path) -> None:
    root = project(tmp_path, "server.pid", "stage.pid")
    with (tmp_path / "out.txt").open("w") as out:
        run = subprocess.Popen(
            [PY, "-m", "orchestrator", "run", "--lane", "heavy"],
            cwd=root,
            env={**os.environ, "CI": "true"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = wait_for((root / "stage.pid").exists, 60)
        assert started, (tmp_path / "out.txt").read_text()
        watchdogs = wait_for(lambda: _watchdog_of(run.pid) is not None, 30)
        assert watchdogs, "workflow started no watchdog"
        watchdog = _watchdog_of(run.pid)
        stage, server = identity(root / "stage.pid"), identity(root / "server.pid")
        assert running(*stage) and running(*server)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        # DESIGN: gone within kill_grace + 1 s; slack for a loaded machine on top.
        gone = wait_for(
            lambda: not running(*stage) and not running(*server), KILL_GRACE_S + 1 + SLACK_S
        )
        assert gone, "a stage process outlived workflow killed with SIGKILL"
        assert watchdog is not None
        assert wait_for(lambda: not _alive(watchdog), SLACK_S), "the watchdog stayed"
    finally:
        run.kill()
        run.wait()
        _kill_recorded(root / "stage.pid", root / "server.pid")  # when the test failed


def _kill_recorded(*files: Path) -> None:
    for path in files:
        if path.exists() and running(*identity(path)):
            psutil.Process(identity(path)[0]).kill()


def _watchdog_of(pid: int) -> psutil.Process | None:
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return None
    for child in children:
        try:
            if "orchestrator.engine.proc.watchdog" in child.cmdline():
                return child
        except psutil.Error:
            continue
    return None


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_pool_reaps_what_it_adopted_and_ends_the_daemon(tmp_path: Path) -> None:
    # In this very process: it is the child subreaper while the pool runs.
    root = project(tmp_path)
    pool = AdaptiveWorkerPool(log_dir=tmp_path / "logs")
    command = (PY, "stage.py", str(tmp_path / "server.pid"))
    pool.submit(StageSpec("daemon", 2, command=command, cwd=root, kill_grace=KILL_GRACE_S))
    try:
        success, errors = pool.wait_all()
    finally:
        pool.shutdown()
    assert success, errors
    assert not running(*identity(root / "server.pid"))
    # Only the processes adopted from this stage (the daemon's session) count: an
    # unwaited child of an earlier test in this pytest process is no fault of the pool.
    session = int((root / "server.pid.sid").read_text())
    zombies = [p.pid for p in psutil.Process().children() if _zombie(p) and _sid(p) == session]
    assert zombies == [], "orphans adopted from the stage were left unreaped"
    assert pool.monitor.watchdog is None  # dismissed with the run


def _zombie(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _sid(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except OSError:
        return None


def _zombie_pid(pid: int) -> bool:
    try:
        return _zombie(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True


class CallerFailed(Exception):
    """What the event callback raises."""


def test_a_failing_caller_ends_the_running_stages_before_the_error_leaves(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "long.pid"
    long = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)"
    quick = f"import os, time\nwhile not os.path.exists({str(pid_file)!r}): time.sleep(0.02)"

    def on_event(event: StageEvent) -> None:
        if event.kind == "end":
            raise CallerFailed(event.name)

    pool = AdaptiveWorkerPool(
        Strategy.THREAD, 2, log_dir=tmp_path / "logs", on_event=on_event, usable_cpus=2.0
    )
    pool.submit(StageSpec("long", 2, command=(PY, "-c", long), kill_grace=KILL_GRACE_S))
    pool.submit(StageSpec("quick", 3, command=(PY, "-c", quick)))
    started = time.monotonic()
    try:
        with pytest.raises(CallerFailed, match="quick"):
            pool.wait_all()
    finally:
        pool.shutdown()
    # Before: the error waited for the 300 s stage. Now the stage is ended (TERM) first.
    assert time.monotonic() - started < KILL_GRACE_S + SLACK_S
    assert not psutil.pid_exists(int(pid_file.read_text())) or _zombie_pid(
        int(pid_file.read_text())
    )


def test_while_stages_are_adopted_from_a_helper_keeps_its_exit_status(tmp_path: Path) -> None:
    # This process is the subreaper while the pool runs, and reaps the stage's orphans;
    # a child it started itself (as workflow starts git) must keep its own exit status.
    root = project(tmp_path)
    pool = AdaptiveWorkerPool(log_dir=tmp_path / "logs")
    command = (PY, "stage.py", str(tmp_path / "server.pid"))
    for number in range(3):
        pool.submit(StageSpec(f"daemon{number}", 2, command=command, cwd=root, kill_grace=0.2))
    runner = threading.Thread(target=pool.wait_all)
    runner.start()
    codes = []
    try:
        while runner.is_alive():
            codes.append(subprocess.run([PY, "-c", "raise SystemExit(3)"], check=False).returncode)
    finally:
        runner.join()
        pool.shutdown()
    assert codes and set(codes) == {3}
    assert all(record.status is StageStatus.PASSED for record in pool.results)
