"""A broken runner: the system refuses, the disk fills; exit 5, the record says why, and no
stage is launched after the verdict. A stage failing on its own is still exit 1.

How each refusal is arranged, for real, as root on Linux:
- `Too many open files`: a low RLIMIT_NOFILE for the whole run (`resource.setrlimit` in
  the child before exec, as `prlimit --nofile` would).
- `Resource temporarily unavailable` on fork: RLIMIT_NPROC does not bind root (the kernel
  exempts uid 0), so a cgroup v1 `pids` group of the test's own (`pids.max` lowered below
  the group's count once the first stage runs) refuses every further fork and thread.
- `Exec format error`: an ELF file for a machine no runner has (e_machine 0xBEEF).
- A full disk: the reports directory is a 4 MiB tmpfs the test mounts (and unmounts).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.command import workflow

PY = sys.executable
PIDS_ROOT = Path("/sys/fs/cgroup/pids")
FOREIGN_ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\xef\xbe" + bytes(44)
MARK = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('ran')"
SEQUENTIAL = '[lanes.standard]\nstrategy = "sequential"\n'
# The first stage notes that it runs, then waits for the test's go-ahead.
WAITS = (
    "import os, pathlib, sys, time\n"
    "pathlib.Path(sys.argv[1]).touch()\n"
    "while not os.path.exists(sys.argv[2]):\n"
    "    time.sleep(0.02)\n"
)
CHATTY = (
    "import sys, time\n"
    "for _ in range(80):\n"
    "    sys.stdout.write('x' * 65536)\n"
    "    sys.stdout.flush()\n"
    "time.sleep(60)\n"
)


def config(stages: dict[str, list[str]], extra: str = "", *, needs: str | None = None) -> str:
    lines = ['[workflow]\nhistory = ""\ncache = ""\n', extra]
    for name, argv in stages.items():
        lines.append(f"[stages.{name}]\nrun = {json.dumps(argv)}\n")
        if needs is not None and name != needs:
            lines.append(f'needs = ["{needs}"]\n')
    return "\n".join(lines)


def record_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = result.stdout.strip().splitlines()
    run_dir = Path(next(line for line in lines if line.startswith("reports: ")).split(": ", 1)[1])
    data: dict[str, Any] = json.loads((run_dir / "run.json").read_text())
    return data


def stages_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {stage["name"]: stage for stage in record["stages"]}


def broken_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if "runner broken: " in line]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


def test_three_stages_a_foreign_binary_cannot_start_break_the_runner(tmp_path: Path) -> None:
    tools = tmp_path / "runner-tools"
    tools.mkdir()
    foreign = tools / "tool"
    foreign.write_bytes(FOREIGN_ELF)
    foreign.chmod(0o755)
    root = tmp_path / "project"
    root.mkdir()
    marker = tmp_path / "after.txt"
    stages = {name: [str(foreign)] for name in ("a", "b", "c")}
    (root / "workflow.toml").write_text(
        config({**stages, "after": [PY, "-c", MARK, str(marker)]}, SEQUENTIAL)
    )
    result = workflow(root, "run", "--lane", "standard")
    assert result.returncode == 5, result.stdout + result.stderr
    cause = (
        f"3 stages could not start: Exec format error (ENOEXEC): this runner cannot run {foreign}"
    )
    assert broken_line(result) == f"workflow: runner broken: {cause}"
    record = record_of(result)
    assert record["runner_broken"] == cause
    assert record["exit_code"] == 5
    found = stages_of(record)
    for name in ("a", "b", "c"):
        assert found[name]["status"] == "error"
        assert found[name]["runner_fault"].startswith("Exec format error (ENOEXEC)")
    assert found["after"]["status"] == "cancelled"
    assert found["after"]["error"] == f"not started: runner broken: {cause}"
    assert not marker.exists()  # nothing was launched once the runner was found broken


def test_a_stages_own_file_that_cannot_run_is_its_own_failure(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    script = root / "check.sh"
    script.write_text("echo this script has no interpreter line\n")
    script.chmod(0o755)
    elf = root / "bin" / "tool"
    elf.parent.mkdir()
    elf.write_bytes(FOREIGN_ELF)  # committed to the project: its own to fix
    elf.chmod(0o755)
    fails = [PY, "-c", "raise SystemExit(3)"]
    stages = {"a": ["./check.sh"], "b": ["bin/tool"], "c": ["bin/tool"], "d": fails}
    (root / "workflow.toml").write_text(config(stages))
    result = workflow(root, "run", "--lane", "standard")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "runner broken" not in result.stdout + result.stderr
    record = record_of(result)
    assert record["runner_broken"] is None
    assert all(stage["runner_fault"] is None for stage in record["stages"])


def _nofile(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def test_too_many_open_files_breaks_the_runner(tmp_path: Path) -> None:
    """A limit low enough that workflow runs out of file descriptors part-way: whichever
    of its own steps meets it first (a stage's pipes, the commit lookup), the run is the
    runner's failure; the lowest limits refuse it before any run directory exists. Where
    only one or two stages meet it and the rest run, the run is exit 1 as DESIGN says
    (three stages break the runner), and each such stage names the refusal."""
    root = tmp_path / "project"
    root.mkdir()
    marks = {name: tmp_path / f"{name}.ran" for name in "abcde"}
    stages = {name: [PY, "-c", MARK, str(path)] for name, path in marks.items()}
    (root / "workflow.toml").write_text(config(stages, SEQUENTIAL))
    recorded = 0
    for limit in range(8, 15):
        for path in marks.values():
            path.unlink(missing_ok=True)
        done = subprocess.run(
            [PY, "-m", "orchestrator", "run", "--lane", "standard", "--format", "json"],
            cwd=root,
            env={**os.environ, "CI": "true"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            preexec_fn=functools.partial(_nofile, limit),
        )
        output = done.stdout + done.stderr
        assert "Traceback" not in output, output
        if done.returncode == 0:
            continue  # enough descriptors for this run after all
        if done.returncode == 1:
            faults = [stage["runner_fault"] for stage in record_of(done)["stages"]]
            assert "Too many open files (EMFILE)" in faults, output
            continue
        assert done.returncode == 5, output
        assert "Too many open files (EMFILE)" in broken_line(done)
        if "reports: " not in done.stdout:
            continue
        record = record_of(done)
        recorded += 1
        assert "Too many open files (EMFILE)" in record["runner_broken"]
        for name, stage in stages_of(record).items():
            if stage["status"] == "cancelled":
                assert stage["runner_fault"] == record["runner_broken"]
                # The verdict stops launching: a stage it cancelled before it started
                # never runs. (The record is written on its own thread, so a write that
                # fails may be noticed just after the next stage was launched: that stage
                # started before the verdict, and its attempt is recorded.)
                if stage["attempts"] == 0:
                    assert not marks[name].exists(), f"{name} ran after the verdict: {stage}"
    assert recorded > 0


@pytest.fixture
def pids_group() -> Iterator[Path]:
    """A cgroup v1 `pids` group of the test's own, removed afterwards."""
    group = PIDS_ROOT / f"workflow-test-{uuid.uuid4().hex[:12]}"
    group.mkdir()
    try:
        yield group
    finally:
        deadline = time.monotonic() + 30
        while (group / "cgroup.procs").read_text().split() and time.monotonic() < deadline:
            time.sleep(0.1)
        group.rmdir()


def test_fork_refused_by_the_process_limit_breaks_the_runner(
    tmp_path: Path, pids_group: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    go = tmp_path / "go"
    first = [PY, "-c", WAITS, str(tmp_path / "first"), str(go)]
    marks = {name: tmp_path / f"{name}.ran" for name in "bcde"}
    stages = {"a": first, **{name: [PY, "-c", MARK, str(path)] for name, path in marks.items()}}
    (root / "workflow.toml").write_text(config(stages, SEQUENTIAL, needs="a"))
    script = f'echo $$ > {pids_group / "cgroup.procs"} && exec "$@"'
    running = subprocess.Popen(
        ["sh", "-c", script, "sh", PY, "-m", "orchestrator", "run", "--lane", "standard"],
        cwd=root,
        env={**os.environ, "CI": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (
            (tmp_path / "first").exists() and list(root.glob(".workflow/reports/*/run.json"))
        ):
            assert time.monotonic() < deadline and running.poll() is None
            time.sleep(0.05)
        # The first record is written (the commit looked up): from here workflow needs a
        # new process or thread only for a stage. Below the group's current count: no
        # fork and no thread from now on, even once the first stage's own are gone.
        (pids_group / "pids.max").write_text("1")
        go.touch()
        stdout, stderr = running.communicate(timeout=120)
    finally:
        (pids_group / "pids.max").write_text("max")
        if running.poll() is None:
            running.kill()
            running.wait()
    result = subprocess.CompletedProcess(running.args, running.returncode, stdout, stderr)
    assert result.returncode == 5, stdout + stderr
    assert "Traceback" not in stdout + stderr
    cause = "3 stages could not start: Resource temporarily unavailable (EAGAIN)"
    assert broken_line(result) == f"workflow: runner broken: {cause}"
    record = record_of(result)
    assert record["runner_broken"] == cause
    found = stages_of(record)
    assert found["a"]["status"] == "passed"
    refused = [name for name in "bcde" if found[name]["status"] == "error"]
    assert len(refused) == 3
    (last,) = [name for name in "bcde" if name not in refused]
    assert found[last]["status"] == "cancelled"
    assert found[last]["error"] == f"not started: runner broken: {cause}"
    assert not any(path.exists() for path in marks.values())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_disk_that_fills_during_the_run_breaks_the_runner(
    tmp_path: Path, small_disk: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    later = tmp_path / "later.ran"
    stages = {"chatty": [PY, "-c", CHATTY], "later": [PY, "-c", MARK, str(later)]}
    text = config(stages, SEQUENTIAL, needs="chatty")
    (root / "workflow.toml").write_text(
        text.replace("[workflow]\n", f'[workflow]\nreports = "{small_disk}"\n', 1)
    )
    result = workflow(root, "run", "--lane", "standard", "--format", "json")
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "Traceback" not in output
    record = record_of(result)
    (run_dir,) = list(small_disk.iterdir())
    cause = f"No space left on device writing {run_dir / 'logs' / 'chatty.log'}"
    assert record["runner_broken"] == cause
    assert broken_line(result) == f"workflow: runner broken: {cause}"
    found = stages_of(record)
    assert found["chatty"]["status"] == "cancelled"  # ended by the breaker, not 60 s later
    assert found["chatty"]["runner_fault"] == cause
    assert found["later"]["status"] in ("cancelled", "skipped")
    assert not later.exists()
    shutil.rmtree(run_dir / "logs", ignore_errors=True)
