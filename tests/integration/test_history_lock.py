"""Must-show: history is optional and never delays the stages.

A second real process holds the real SQLite file locked: it switches the database to a
rollback journal (so even readers wait, as with any tool that opens the file that way)
and keeps an exclusive transaction open until the test tells it to let go.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.history.store import READ_WAIT_S, profiles_safely
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode = DELETE")
connection.execute("BEGIN EXCLUSIVE")
connection.execute("DELETE FROM runs WHERE run_id = 'none'")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
"""


def project(tmp_path: Path, started_file: Path) -> Path:
    stage = f"import time; open({str(started_file)!r}, 'w').write(repr(time.time()))"
    (tmp_path / "workflow.toml").write_text(
        '[workflow]\nhistory = "state/history.db"\n\n'
        f'[stages.first]\nrun = [{json.dumps(PY)}, "-c", {json.dumps(stage)}]\n'
    )
    return tmp_path


def runs_in(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM runs").fetchone()
    return int(count)


def hold(database: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [PY, "-c", HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_history_delays_neither_the_first_stage_nor_the_end(tmp_path: Path) -> None:
    started_file = tmp_path / "first-started"
    root = project(tmp_path, started_file)
    database = root / "state" / "history.db"
    assert workflow(root, "run", "--lane", "standard").returncode == 0  # creates the database
    started_file.unlink()
    holder = hold(database)
    run: subprocess.Popen[str] | None = None
    try:
        launched = time.time()
        run = subprocess.Popen(
            [PY, "-m", "orchestrator", "run", "--lane", "standard"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CI": "true"},
        )
        assert run.stderr is not None
        said = [run.stderr.readline() for _ in range(2)]
        # The first stage ran while the lock was held (it is let go only below), far sooner
        # than the database's own wait (60 s) would allow. The bound is generous because it
        # includes two Python start-ups, which a loaded machine stretches; what the lock
        # itself costs the start is held to READ_WAIT_S by
        # test_the_schedulers_read_of_a_locked_history_gives_up_at_once.
        assert float(started_file.read_text()) - launched < 5.0
        assert said[0].startswith(
            f"workflow: warning: history not read: {database} is locked by another process"
        )
        assert said[1].startswith(
            f"workflow: the history database {database} is locked by another process; "
            "waiting up to "
        )
        assert holder.stdin is not None
        holder.stdin.write("release\n")
        holder.stdin.flush()
        out, rest = run.communicate(timeout=60)
    finally:
        holder.kill()
        holder.communicate()  # reaps it and closes its pipes
        if run is not None and run.poll() is None:  # a failed assertion leaves no run behind
            run.kill()
            run.communicate()
    assert run.returncode == 0, out + rest
    assert "history not written" not in rest
    assert runs_in(database) == 2


def test_the_schedulers_read_of_a_locked_history_gives_up_at_once(tmp_path: Path) -> None:
    root = project(tmp_path, tmp_path / "first-started")
    database = root / "state" / "history.db"
    assert workflow(root, "run", "--lane", "standard").returncode == 0
    problems: list[str] = []
    holder = hold(database)
    try:
        begun = time.monotonic()
        profiles = profiles_safely(database, "standard", "any", problems.append)
        took = time.monotonic() - begun
    finally:
        holder.kill()
        holder.communicate()
    assert profiles == {}
    assert problems == [
        f"history not read: {database} is locked by another process; "
        "the plan goes without its timings."
    ]
    # Measured in this process, so no start-up is in it: the wait is READ_WAIT_S, asleep.
    assert took < READ_WAIT_S + 0.75


def test_a_history_locked_throughout_is_one_warning_and_the_exit_code_stands(
    tmp_path: Path,
) -> None:
    started_file = tmp_path / "first-started"
    root = project(tmp_path, started_file)
    database = root / "state" / "history.db"
    assert workflow(root, "run", "--lane", "standard").returncode == 0
    holder = hold(database)
    try:
        begun = time.monotonic()
        result = workflow(root, "run", "--lane", "standard")
        took = time.monotonic() - begun
    finally:
        holder.kill()
        holder.communicate()  # reaps it and closes its pipes
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    unwritten = [line for line in result.stderr.splitlines() if "history not written" in line]
    assert len(unwritten) == 1 and str(database) in unwritten[0]
    assert took < 45  # bounded: the write's own wait is 1 s + 10 s, far from sqlite's 60 s
    assert runs_in(database) == 1
