"""Faults around a stage's process, with real processes: a real-time signal, a failure
between the launch and the watch, a secret in a rerun's command, a rerun from a
working directory below pytest's rootdir."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from orchestrator.engine.proc.monitor import TreeMonitor
from orchestrator.engine.proc.process import ExecutionContext, run_command
from orchestrator.engine.spec import StageSpec
from orchestrator.model.masking import Masker
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
MADE_UP = "dpl9f8e7d6c5b4a39281706"
FAILING = "def test_fails():\n    assert 1 + 1 == 3\n"


def last_record(root: Path) -> tuple[Path, dict[str, Any]]:
    run_dir = sorted((root / ".workflow" / "reports").glob("*/run.json"))[-1].parent
    return run_dir, json.loads((run_dir / "run.json").read_text())


def test_a_stage_killed_by_a_real_time_signal_is_a_failed_stage(tmp_path: Path) -> None:
    # Signal 40 is SIGRTMIN+6 on Linux: no `signal.Signals` member has its number.
    argv = [PY, "-c", "import os; os.kill(os.getpid(), 40)"]
    (tmp_path / "workflow.toml").write_text(
        f"[stages.rt]\nrun = {json.dumps(argv)}\n[stages.ok]\nrun = {json.dumps([PY, '-c', ''])}\n"
    )
    done = workflow(tmp_path, "run", "--lane", "standard", "--no-cache")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    _, record = last_record(tmp_path)
    stages = {stage["name"]: stage for stage in record["stages"]}
    assert stages["rt"]["status"] == "failed"
    assert stages["rt"]["error"] == "killed by SIGRTMIN+6"
    assert stages["rt"]["exit_code"] == 128 + 40
    assert stages["ok"]["status"] == "passed"


def test_a_failure_before_the_tree_is_watched_ends_the_stage_process(tmp_path: Path) -> None:
    """A library caller's `spawned` callback that raises: nothing watches the new process
    yet, so `run_command` itself must kill and reap it before the error goes on."""
    marker = f"workflow-test-{uuid.uuid4().hex}"
    argv = (PY, "-c", "import time, sys; time.sleep(120)", marker)

    def spawned() -> None:
        raise RuntimeError("the caller's bookkeeping failed")

    monitor = TreeMonitor()
    monitor.start()
    try:
        context = ExecutionContext(monitor, Masker(()), None, spawned=spawned)
        spec = StageSpec("sleeper", 1, command=argv, cwd=tmp_path)
        with pytest.raises(RuntimeError, match="bookkeeping"):
            run_command(spec, argv, tmp_path / "sleeper.log", {}, context)
    finally:
        monitor.stop()
    left = [
        process.info["pid"]
        for process in psutil.process_iter(["pid", "cmdline"])
        if marker in (process.info["cmdline"] or [])
    ]
    assert left == []


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)


def test_a_secret_in_a_rerun_command_is_masked_in_the_log(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests" / "test_x.py").write_text(FAILING)
    # The secret is in the stage's own argv: `-k` is kept in the rerun's command.
    argv = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", f"test_ or {MADE_UP}"]
    (tmp_path / "workflow.toml").write_text(
        f"[stages.unit]\nrun = {json.dumps([*argv, 'tests'])}\nrerun_failed = 1\n"
        f'env = {{ API_TOKEN = "{MADE_UP}" }}\n'
    )
    done = workflow(tmp_path, "run", "--lane", "standard", "--no-cache")
    assert done.returncode == 1, done.stdout + done.stderr
    run_dir, record = last_record(tmp_path)
    [unit] = record["stages"]
    assert unit["tests"]["reruns"] == 1
    log = (run_dir / unit["log"]).read_text()
    [banner] = [line for line in log.splitlines() if "rerun of the failed tests" in line]
    assert "***" in banner
    assert MADE_UP not in log


def test_a_rerun_from_a_cwd_below_the_rootdir_finds_the_failed_tests(tmp_path: Path) -> None:
    """pytest's rootdir is where pyproject.toml is; JUnit names tests from there, but the
    rerun's pytest starts in `cwd` = tests/ and reads the ids from there."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    counter = tmp_path / "tests" / "calls"
    (tmp_path / "tests" / "test_flaky.py").write_text(
        "from pathlib import Path\n"
        "COUNTER = Path(__file__).with_name('calls')\n\n"
        "def test_flaky():\n"
        "    calls = int(COUNTER.read_text()) if COUNTER.exists() else 0\n"
        "    COUNTER.write_text(str(calls + 1))\n"
        "    assert calls > 0\n"
    )
    argv = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."]
    (tmp_path / "workflow.toml").write_text(
        f'[stages.unit]\nrun = {json.dumps(argv)}\ncwd = "tests"\nrerun_failed = 1\n'
    )
    done = workflow(tmp_path, "run", "--lane", "standard", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    run_dir, record = last_record(tmp_path)
    [unit] = record["stages"]
    assert unit["tests"]["flaky"] == ["tests/test_flaky.py::test_flaky"]
    assert (run_dir / "tests" / "unit.rerun1.ids").read_text() == "test_flaky.py::test_flaky\n"
    assert counter.read_text() == "2"
