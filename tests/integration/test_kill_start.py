"""No start-up window for orphans: `kill -9` of workflow at any moment leaves no stage.

workflow is killed outright 10 ms, 50 ms and 200 ms after it starts, 20 times each: before
it has read its configuration, while its first stages start, and while they run. Every
stage process (one that ignores SIGTERM, one that leaves its tree with a double fork) must
be gone within its `kill_grace` plus a second; a zombie counts as gone (it runs nothing).
The deadline adds SLACK_S for a loaded machine: what is decided is that nothing survives,
not how fast a busy scheduler delivers the signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

PY = sys.executable
KILL_GRACE_S = 0.3
SLACK_S = 5.0
ROUNDS = 20

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
# Leaves its stage's tree: fork, setsid, fork again; the grandchild sleeps.
DAEMON = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(60)\n"
    "    os._exit(0)\n"
    "time.sleep(60)\n"
)


def project(root: Path, marker: str) -> Path:
    root.mkdir()
    stages = {"stubborn": STUBBORN, "daemon": DAEMON, "plain": "import time; time.sleep(60)"}
    lines = ['[workflow]\nhistory = ""\ncache = ""\n[lanes.standard]\nstrategy = "thread"\n']
    for name, code in stages.items():
        argv = json.dumps([PY, "-c", code, marker])
        lines.append(f"[stages.{name}]\nrun = {argv}\nkill_grace = {KILL_GRACE_S}\n")
    (root / "workflow.toml").write_text("\n".join(lines))
    return root


def survivors(marker: str) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if marker in (process.info["cmdline"] or []) and process.info["status"] != "zombie":
            found.append(process.pid)
    return found


def start(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PY, "-m", "orchestrator", "run", "--lane", "standard"],
        cwd=root,
        env={**os.environ, "CI": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_and_check(running: subprocess.Popen[bytes], marker: str) -> None:
    running.send_signal(signal.SIGKILL)
    running.wait()
    deadline = time.monotonic() + KILL_GRACE_S + 1.0 + SLACK_S
    while left := survivors(marker):
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"stage processes outlived workflow: {left}")
        time.sleep(0.05)


@pytest.mark.parametrize("delay_s", [0.01, 0.05, 0.2])
def test_a_workflow_killed_at_any_moment_leaves_no_stage_running(
    tmp_path: Path, delay_s: float
) -> None:
    marker = f"workflow-kill-test-{uuid.uuid4().hex}"
    root = project(tmp_path / "project", marker)
    for _ in range(ROUNDS):
        running = start(root)
        time.sleep(delay_s)
        kill_and_check(running, marker)


def test_a_workflow_killed_as_its_first_stage_appears_leaves_no_stage_running(
    tmp_path: Path,
) -> None:
    """The moment the old watchdog left open: a stage process exists, and workflow dies
    before anything (the sampler's first round) would have started a watchdog."""
    marker = f"workflow-kill-test-{uuid.uuid4().hex}"
    root = project(tmp_path / "project", marker)
    for _ in range(ROUNDS // 2):
        running = start(root)
        deadline = time.monotonic() + 120
        while not survivors(marker) and running.poll() is None:
            assert time.monotonic() < deadline, "no stage ever started"
            time.sleep(0.002)
        kill_and_check(running, marker)
