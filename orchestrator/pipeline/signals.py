"""SIGINT/SIGTERM/SIGHUP during a run: end every stage's tree gracefully, a second signal
at once.

SIGHUP (the terminal closed, an ssh connection dropped) would otherwise end workflow alone:
each stage runs in its own session, so the hang-up never reaches the stages' trees.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.model.errors import ExitCode, signal_exit_code

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def interrupted_code(received: list[int]) -> ExitCode | None:
    """The exit code for the first signal received (129 SIGHUP, 130 SIGINT, 143 SIGTERM),
    or None."""
    if not received:
        return None
    return signal_exit_code(received[0])


@contextmanager
def signals_cancel(pool: AdaptiveWorkerPool) -> Iterator[list[int]]:
    """SIGINT/SIGTERM/SIGHUP end the running trees gracefully; a second signal kills at once."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        pool.cancel(immediate=len(received) > 1)

    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
