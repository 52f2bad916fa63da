"""`submit_subtask`: work a callable stage fans out, on an executor of its own.

A stage waiting for its subtasks must never hold the workers those subtasks need (the
lesson of the dual-thread-pool seed), so subtasks go to the pool's separate executor,
found through the stage thread's context; outside a pool, to a shared fallback executor.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol


class SubtaskHost(Protocol):
    """A pool that can run subtasks (AdaptiveWorkerPool) and that a split stage tells
    when one of its parts has ended."""

    def subtask_executor(self) -> ThreadPoolExecutor: ...

    def release_core(self, stage: str) -> None: ...


current_pool: contextvars.ContextVar[SubtaskHost | None] = contextvars.ContextVar(
    "workflow_current_pool", default=None
)
_fallback_lock = threading.Lock()
_fallback: list[ThreadPoolExecutor] = []


def submit_subtask(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """Run a subtask of the current stage on the pool's separate subtask executor."""
    pool = current_pool.get()
    if pool is not None:
        return pool.subtask_executor().submit(function, *args)
    with _fallback_lock:
        if not _fallback:
            _fallback.append(ThreadPoolExecutor(thread_name_prefix="workflow-subtask"))
        executor = _fallback[0]
    return executor.submit(function, *args)
