"""Callables used as stages by the engine tests (imported by name, like a user's)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from orchestrator.engine.pool import submit_subtask


def passes() -> None:
    """Prints and passes."""
    print("callable stage ran")


def returns_false() -> bool:
    """Fails by returning False."""
    return False


def returns_three() -> int:
    """Fails by returning a non-zero integer."""
    return 3


def raises() -> None:
    """Fails by raising."""
    raise ValueError("bad input\nsecond line")


def burns_cpu() -> None:
    """Keeps a core busy for about half a second."""
    deadline = time.process_time() + 0.5
    while time.process_time() < deadline:
        pass


def fans_out() -> int:
    """Runs five subtasks through the pool's subtask API and waits for all of them."""
    futures = [submit_subtask(time.sleep, 0.05) for _ in range(5)]
    for future in futures:
        future.result(timeout=30)
    return 0


def exits_zero() -> None:
    """Calls sys.exit(0): still a failure of its stage (DESIGN: raising fails)."""
    raise SystemExit(0)


def interrupts() -> None:
    """Raises KeyboardInterrupt itself: its stage's failure, not workflow's interrupt."""
    raise KeyboardInterrupt


def changes_dir() -> None:
    """Moves the working directory elsewhere and returns."""
    os.chdir(Path.cwd().parent)


def shows_env_cwd() -> None:
    """Prints what a stage's `env` and `cwd` should have set."""
    print("X =", os.environ.get("X"), "cwd =", Path.cwd())


def hangs() -> None:
    """Sleeps far longer than the tests' timeouts."""
    time.sleep(60)


def naps() -> None:
    """Sleeps a little: long enough to pass a 0.05 s timeout."""
    time.sleep(0.3)


def writes_key_in_pieces() -> bool:
    """Writes TEST_SIGNING_KEY five characters at a time, then fails."""

    text = os.environ["TEST_SIGNING_KEY"]
    for start in range(0, len(text), 5):
        sys.stdout.write(text[start : start + 5])
    sys.stdout.write("\nno newline at the end")
    return False
