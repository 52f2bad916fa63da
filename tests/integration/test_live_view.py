"""The live view in a real pseudo-terminal: the elapsed time moves while a stage runs.

`workflow run` is started with its standard output on a pty, as a person's terminal, and
everything it draws is read back. What is asserted is what workflow drew (the elapsed
values in its frames), never how fast this machine read them.
"""

from __future__ import annotations

import itertools
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_RUNNING = re.compile(r"slow\s*│\s*running\s*│\s*([0-9]+\.[0-9])s")


def _drawn(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run `workflow run ARGS` on a pty; its exit code and every character it drew."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
    )
    os.close(secondary)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(primary)
    return code, _ESCAPE.sub("", b"".join(chunks).decode("utf-8", errors="replace"))


def test_elapsed_moves_at_least_twice_a_second_and_one_header(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(
        "[stages.slow]\n"
        f"run = [{sys.executable!r}, '-c', 'import time; time.sleep(3)']\n"
        "[stages.quick]\n"
        f"run = [{sys.executable!r}, '-c', 'pass']\n"
    )
    code, drawn = _drawn(tmp_path, "--lane", "heavy", "--no-history")
    assert code == 0, drawn
    shown = [float(value) for value in _RUNNING.findall(drawn)]
    distinct = sorted(set(shown))
    # Redrawn by the refresh thread, not only when a stage starts or ends: a 3 s stage
    # shows at least six different elapsed times, none more than half a second apart.
    assert len(distinct) >= 6, distinct
    gaps = [later - earlier for earlier, later in itertools.pairwise(distinct)]
    assert max(gaps) <= 0.5 + 1e-9, distinct
    assert distinct[-1] >= 2.5, distinct
    # One header line; a pass is "passed" in the table, the summary and the end lines.
    assert drawn.count("workflow: heavy lane") == 1, drawn
    assert re.search(r"quick\s*│\s*passed", drawn), drawn
    assert not re.search(r"(slow|quick)(\s*│)?\s*:?\s*ok\b", drawn), drawn
