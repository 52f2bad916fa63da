"""SIGINT/SIGTERM/SIGHUP during a run: end every stage's tree gracefully, a second signal
at once; around a run (a pushed commit's temporary worktree), raise so that cleanup runs.

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
from orchestrator.model.errors import ExitCode, Interrupted, signal_exit_code

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


@contextmanager
def signals_raise() -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP raise `Interrupted` (exit 130/143/129), so that what the block
    made (a temporary worktree) is taken away by its `finally` before workflow exits.

    Without this, SIGTERM and SIGHUP would end workflow at once, cleanup unrun. A run's
    pool installs its own handlers while the stages run, then puts these back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP off while the block runs (making or removing a
    worktree: half of either leaves the repository untidy), then raise `Interrupted` for
    the first one that came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise Interrupted(received[0])
