"""SIGINT/SIGTERM during a run: end every stage's tree gracefully, a second signal at once."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.model.errors import ExitCode


def interrupted_code(received: list[int]) -> ExitCode | None:
    """The exit code for the first signal received (130 SIGINT, 143 SIGTERM), or None."""
    if not received:
        return None
    return ExitCode.SIGTERM if received[0] == signal.SIGTERM else ExitCode.SIGINT


@contextmanager
def signals_cancel(pool: AdaptiveWorkerPool) -> Iterator[list[int]]:
    """SIGINT/SIGTERM end the running trees gracefully; a second signal kills at once."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        pool.cancel(immediate=len(received) > 1)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
