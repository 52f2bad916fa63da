"""A console that cannot be written never costs the run its record, reports or history.

Real `workflow run` processes whose stdout is a pipe closed by the reader, a closed fd,
or /dev/full.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.command import workflow

PY = sys.executable
# Stage `a` waits for the test's go-ahead, so its end is printed after the reader left.
WAIT_FOR_GO = (
    "import pathlib, time\n"
    "deadline = time.monotonic() + 60\n"
    "while not pathlib.Path('go').exists() and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)\n"
)


def project(tmp_path: Path) -> Path:
    (tmp_path / "workflow.toml").write_text(
        f"[stages.a]\nnumber = 2\nrun = [{json.dumps(PY)}, '-c', {json.dumps(WAIT_FOR_GO)}]\n"
        "[stages.b]\nnumber = 3\nrun = ['true']\n"
    )
    return tmp_path


def command() -> list[str]:
    return [PY, "-m", "orchestrator", "run", "--lane", "heavy", "--strategy", "thread"]


def assert_run_complete(tmp_path: Path, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    (record_path,) = (tmp_path / ".workflow" / "reports").glob("*/run.json")
    record = json.loads(record_path.read_text())
    assert record["finished"] is True
    assert record["exit_code"] == 0
    assert {s["name"]: s["status"] for s in record["stages"]} == {"a": "passed", "b": "passed"}
    assert (record_path.parent / "report.html").is_file()
    history = workflow(tmp_path, "history", "--json")
    assert [run["exit_code"] for run in json.loads(history.stdout)] == [0]


def test_a_reader_that_leaves_early_costs_nothing(tmp_path: Path) -> None:
    project(tmp_path)
    with subprocess.Popen(
        command(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CI": "true"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()  # like `| head -1`
        process.stdout.close()
        (tmp_path / "go").touch()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0, stderr
    assert stderr.count("warning: cannot write to stdout") == 1, stderr
    assert_run_complete(tmp_path, stderr)


def test_a_closed_stdout_costs_nothing(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "go").touch()
    script = 'exec "$@" >&-'
    result = subprocess.run(
        ["sh", "-c", script, "sh", *command()],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning: cannot write to stdout") == 1, result.stderr
    assert_run_complete(tmp_path, result.stderr)


def test_a_full_device_as_stdout_costs_nothing(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "go").touch()
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            command(),
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CI": "true"},
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "No space left on device" in result.stderr
    assert_run_complete(tmp_path, result.stderr)


def test_a_failing_run_keeps_its_code_with_a_closed_stdout(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text("[stages.bad]\nrun = ['sh', '-c', 'exit 1']\n")
    result = subprocess.run(
        ["sh", "-c", 'exec "$@" >&- 2>&-', "sh", *command()],
        cwd=tmp_path,
        env={**os.environ, "CI": "true"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    (record_path,) = (tmp_path / ".workflow" / "reports").glob("*/run.json")
    assert json.loads(record_path.read_text())["exit_code"] == 1


def test_a_failed_stage_s_tail_cannot_drive_the_terminal(tmp_path: Path) -> None:
    script = tmp_path / "ansifail.sh"
    script.write_text(
        "printf '\\033[31mred\\033[0m\\rover\\r\\nnul:\\000:end\\n\\033]0;title\\007\\033[2J'\n"
        "exit 1\n"
    )
    (tmp_path / "workflow.toml").write_text(f"[stages.af]\nrun = ['sh', '{script}']\n")
    result = subprocess.run(
        [*command(), "--no-history"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert b"nul::end" in result.stdout
    for raw in (b"\x1b]0;", b"\x1b[2J", b"\x00", b"\r"):
        assert raw not in result.stdout, (raw, result.stdout)
    log = next((tmp_path / ".workflow" / "reports").glob("*/logs/af.log"))
    assert b"\x1b]0;title\x07" in log.read_bytes()  # the log itself stays byte-exact
