"""Callables used as stages by the engine tests (imported by name, like a user's)."""

from __future__ import annotations

import time

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
