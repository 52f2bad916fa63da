"""`workflow run` as a real subprocess: record, signals, survivors, memory, output."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from orchestrator.model.records import record_from_data

PY = sys.executable


def write_config(tmp_path: Path, stages: dict[str, str]) -> None:
    lines = []
    for name, body in stages.items():
        lines += [f"[stages.{name}]", body]
    (tmp_path / "workflow.toml").write_text("\n".join(lines) + "\n")


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_run_left_behind() -> Iterator[None]:
    """A failed assertion leaves no `workflow run` running and no pipe open (which would
    fail a later test with a ResourceWarning)."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        if process.stdout is not None and not process.stdout.closed:
            process.communicate()


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [PY, "-m", "orchestrator", "run", "--lane", "standard", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CI": "true", **(env or {})},
    )
    _STARTED.append(process)
    return process


def reports_dir(output: str) -> Path:
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    return Path(line.removeprefix("reports: "))


def latest_record(tmp_path: Path) -> dict[str, object]:
    records = sorted((tmp_path / ".workflow" / "reports").glob("*/run.json"))
    assert records, "no run record was written"
    data = json.loads(records[-1].read_text())
    assert isinstance(data, dict)
    return data


def stage_statuses(record: dict[str, object]) -> dict[str, str]:
    stages = record["stages"]
    assert isinstance(stages, list)
    return {s["name"]: s["status"] for s in stages}


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def descendant_pids_file(tmp_path: Path) -> str:
    # Each stage records its pid and its child's pid, so the test can look for survivors.
    return (
        "import os, subprocess, sys, time, pathlib\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"pathlib.Path({str(tmp_path)!r}, os.environ['WORKFLOW_STAGE'] + '.pids')"
        ".write_text(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(300)\n"
    )


def test_run_writes_record_and_exit_code(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "lint": f'run = ["{PY}", "-c", "print(1)"]',
            "unit": f'run = ["{PY}", "-c", "raise SystemExit(5)"]\nneeds = ["lint"]',
        },
    )
    process = start(tmp_path)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    run_dir = reports_dir(output)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["schema"] == 1
    assert record["exit_code"] == 1
    assert record["finished"] is True
    assert stage_statuses(record) == {"lint": "passed", "unit": "failed"}
    unit = next(s for s in record["stages"] if s["name"] == "unit")
    assert unit["exit_code"] == 5
    assert (run_dir / unit["log"]).is_file()
    assert record["pool"]["sizing_reason"]
    assert record["started_at"].endswith("+00:00")


def _signal_run(tmp_path: Path, signum: int) -> tuple[int, dict[str, object], list[int]]:
    script = descendant_pids_file(tmp_path)
    write_config(
        tmp_path,
        {
            # I/O-bound, so both run at once whatever the number of cores
            "a": f'run = [{json.dumps(PY)}, "-c", {json.dumps(script)}]\nkind = "io"',
            "b": f'run = [{json.dumps(PY)}, "-c", {json.dumps(script)}]\nkind = "io"',
            "c": 'run = "true"\nneeds = ["a"]',
        },
    )
    process = start(tmp_path)
    wait_for(tmp_path / "a.pids")
    wait_for(tmp_path / "b.pids")
    pids = [int(p) for name in "ab" for p in (tmp_path / f"{name}.pids").read_text().split()]
    process.send_signal(signum)
    process.communicate(timeout=30)
    return process.returncode, latest_record(tmp_path), pids


def _survivors(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def test_sigint_exits_130_with_record_and_no_survivors(tmp_path: Path) -> None:
    code, record, pids = _signal_run(tmp_path, signal.SIGINT)
    assert code == 130
    assert record["exit_code"] == 130
    assert stage_statuses(record) == {"a": "cancelled", "b": "cancelled", "c": "cancelled"}
    assert _survivors(pids) == []
    # An interrupted run's timing says nothing about a working run's: no speed findings.
    judged = record_from_data(record)
    assert judged.pool.untimed == "the run was interrupted (exit 130)"
    assert judged.pool.critical_path == ()
    assert [b for b in judged.bottlenecks if b.saving_s is not None] == []


def test_sigterm_exits_143(tmp_path: Path) -> None:
    code, record, pids = _signal_run(tmp_path, signal.SIGTERM)
    assert code == 143
    assert record["exit_code"] == 143
    assert _survivors(pids) == []


def test_sighup_ends_every_tree_and_exits_129(tmp_path: Path) -> None:
    code, record, pids = _signal_run(tmp_path, signal.SIGHUP)
    assert code == 129
    assert record["exit_code"] == 129
    assert record["finished"] is True
    assert stage_statuses(record) == {"a": "cancelled", "b": "cancelled", "c": "cancelled"}
    assert _survivors(pids) == []


def test_record_survives_sigkill_with_finished_stages(tmp_path: Path) -> None:
    pid_file = tmp_path / "slow.pid"
    slow = (
        f"import os, pathlib, time; pathlib.Path({str(pid_file)!r} + '.tmp')"
        f".write_text(str(os.getpid())); os.rename({str(pid_file)!r} + '.tmp', "
        f"{str(pid_file)!r}); time.sleep(30)"
    )
    write_config(
        tmp_path,
        {
            "quick": f'run = ["{PY}", "-c", "print(1)"]',
            "slow": f'run = [{json.dumps(PY)}, "-c", {json.dumps(slow)}]\nkind = "io"',
        },
    )
    process = start(tmp_path)
    deadline = time.monotonic() + 20
    while True:
        records = list((tmp_path / ".workflow" / "reports").glob("*/run.json"))
        quick = records and stage_statuses(json.loads(records[0].read_text()))["quick"]
        if quick == "passed" and pid_file.exists():
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.kill()
    process.communicate(timeout=10)
    record = latest_record(tmp_path)
    assert stage_statuses(record)["quick"] == "passed"
    assert record["finished"] is False
    # The slow stage is an orphan of the SIGKILLed run; nothing can end it but us. It is
    # found by the pid it wrote (a reused pid would not name that file), never by a search
    # of the machine's processes, which may hold the same command from another test run.
    with contextlib.suppress(psutil.NoSuchProcess):
        orphan = psutil.Process(int(pid_file.read_text()))
        if str(pid_file) in " ".join(orphan.cmdline()):
            orphan.kill()


def test_hundred_megabytes_of_output_cost_workflow_no_memory(tmp_path: Path) -> None:
    code = (
        "import sys\\nline = b'y' * 1023 + b'\\\\n'\\n"
        "for _ in range(100 * 1024): sys.stdout.buffer.write(line)"
    )
    write_config(tmp_path, {"loud": f'run = ["{PY}", "-c", "{code}"]'})
    process = start(tmp_path)
    me = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, me.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert peak < 150 * 1024 * 1024, f"workflow peaked at {peak / 2**20:.0f} MB"
    log = reports_dir(output) / "logs" / "loud.log"
    assert log.stat().st_size == 100 * 1024 * 1024


def test_github_actions_groups_and_masked_secrets(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "show": f'run = ["{PY}", "-c", "import os; print(os.environ[\'API_TOKEN\'])"]',
            "fail": f'run = ["{PY}", "-c", "print(\'<b>boom</b>\'); raise SystemExit(1)"]',
        },
    )
    # A fake secret that must not be seen again.
    fake_token = "tok-4242-secret"  # nosec B105
    process = start(tmp_path, env={"GITHUB_ACTIONS": "true", "API_TOKEN": fake_token})
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "::group::show: passed" in output
    assert "::endgroup::" in output
    assert "tok-4242-secret" not in output
    run_dir = reports_dir(output)
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert "tok-4242-secret" not in path.read_text(errors="replace"), path
    assert "***" in (run_dir / "logs" / "show.log").read_text()


def test_a_need_outside_the_lane_runs_first(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "a": f'run = ["{PY}", "-c", "open(\'a-ran\', \'w\').close()"]',
            "b": f'run = ["{PY}", "-c", "assert open(\'a-ran\')"]\nneeds = ["a"]',
        },
    )
    with (tmp_path / "workflow.toml").open("a") as config:
        config.write('[lanes.docs]\nstages = ["b"]\n')
    result = subprocess.run(
        [PY, "-m", "orchestrator", "run", "--lane", "docs", "--no-history"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a added: b needs it" in result.stdout
    assert stage_statuses(latest_record(tmp_path)) == {"a": "passed", "b": "passed"}
