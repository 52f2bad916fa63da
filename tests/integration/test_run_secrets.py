"""Must-show: secrets never persist, in any file or on the console.

Real `workflow run` processes; the history database is read with sqlite3 directly. The
values are made up: what matters is that their variables' names mark them as secrets.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
ARGV_VALUE = "dpl-9f8e7d6c5b4a39281706"
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDxc2V0LWJ5LXRoZS10ZXN0cy1ub3QtYS1yZWFsLWtleS0xMjM0NQAAAJi\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
PEM_BODY = PEM.splitlines()[1:3]


def project(tmp_path: Path, stages: dict[str, list[str]]) -> Path:
    lines = ['[workflow]\nhistory = "state/history.db"\n']
    for name, argv in stages.items():
        lines.append(f"[stages.{name}]\nrun = {json.dumps(argv)}\n")
    (tmp_path / "workflow.toml").write_text("\n".join(lines))
    return tmp_path


def everything_written(root: Path) -> str:
    """Every file under the reports directory, and every text cell of the history."""
    texts = [
        path.read_text(errors="replace")
        for path in (root / ".workflow").rglob("*")
        if path.is_file()
    ]
    with sqlite3.connect(root / "state" / "history.db") as connection:
        for query in ("SELECT * FROM runs", "SELECT * FROM stages"):
            for row in connection.execute(query):
                texts += [str(cell) for cell in row]
    return "\n".join(texts)


def test_a_token_in_a_stages_argv_is_absent_from_the_record_and_the_database(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {
            "deploy": [PY, "-c", "import sys; print(sys.argv[1:])", ARGV_VALUE],
            "broken": ["no-such-tool-" + ARGV_VALUE],
        },
    )
    result = workflow(root, "run", "--lane", "standard", env={"DEPLOY_TOKEN": ARGV_VALUE})
    assert result.returncode == 1, result.stdout + result.stderr
    (record_path,) = (root / ".workflow" / "reports").glob("*/run.json")
    record = json.loads(record_path.read_text())
    commands = {stage["name"]: stage["command"] for stage in record["stages"]}
    assert commands["deploy"].endswith("***")
    with sqlite3.connect(root / "state" / "history.db") as connection:
        (stored,) = connection.execute("SELECT record FROM runs").fetchone()
    assert "***" in stored
    assert ARGV_VALUE not in everything_written(root)
    assert ARGV_VALUE not in result.stdout + result.stderr


PRINT_LINE_BY_LINE = """
import os, sys, time
for line in os.environ['DEPLOY_KEY'].splitlines():
    sys.stdout.write(line)
    sys.stdout.flush()
    time.sleep(0.02)  # each line, and its newline, reaches workflow in its own read
    sys.stdout.write('\\n')
    sys.stdout.flush()
raise SystemExit(1)
"""


def test_a_pem_key_printed_line_by_line_is_masked_in_the_log_and_on_the_console(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, {"sign": [PY, "-c", PRINT_LINE_BY_LINE]})
    result = workflow(root, "run", "--lane", "standard", env={"DEPLOY_KEY": PEM})
    assert result.returncode == 1, result.stdout + result.stderr
    console = result.stdout + result.stderr
    assert "--- sign: last" in console  # the failed stage's tail was shown
    (log,) = (root / ".workflow" / "reports").glob("*/logs/sign.log")
    assert log.read_text().count("***") == 4
    written = everything_written(root)
    for line in PEM_BODY:
        assert line not in console
        assert line not in written


PIECE_BY_PIECE = '''
import os, sys


def sign():
    """Writes the key a few characters at a time, then fails so its tail is shown."""
    text = os.environ["DEPLOY_KEY"]
    for start in range(0, len(text), 5):
        sys.stdout.write(text[start : start + 5])
    sys.stdout.write("no newline at the end")
    return False
'''


def test_a_callable_writing_a_key_in_pieces_is_masked(tmp_path: Path) -> None:
    # A configured callable runs in its own process whatever the strategy (README,
    # "Strategies"); its output reaches the log through the same masking copier.
    (tmp_path / "signing.py").write_text(PIECE_BY_PIECE)
    (tmp_path / "workflow.toml").write_text(
        '[workflow]\nhistory = "state/history.db"\n\n[stages.sign]\ncall = "signing:sign"\n'
    )
    result = workflow(
        tmp_path, "run", "--lane", "standard", "--strategy", "thread", env={"DEPLOY_KEY": PEM}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (log,) = (tmp_path / ".workflow" / "reports").glob("*/logs/sign.log")
    assert "***\nno newline at the end" in log.read_text()
    written = everything_written(tmp_path) + result.stdout + result.stderr
    for line in PEM_BODY:
        assert line not in written


def test_the_dry_run_plan_masks_a_token_in_a_command(tmp_path: Path) -> None:
    root = project(tmp_path, {"deploy": [PY, "-c", "pass", ARGV_VALUE]})
    result = workflow(
        root, "run", "--lane", "standard", "--dry-run", env={"DEPLOY_TOKEN": ARGV_VALUE}
    )
    assert result.returncode == 0, result.stderr
    assert "deploy: SLA" in result.stdout and "***" in result.stdout
    assert ARGV_VALUE not in result.stdout + result.stderr
