"""A run whose runner breaks (DESIGN "A broken runner"): how the pipeline sees and says it.

The pool's breaker (`engine/proc/breaker.py`) trips on what the stages meet: three that cannot
start for the system's reason, the OOM killer. The pipeline adds what only it knows: a log
or record of the run that finds the device full while the stages run, and workflow's own
work refused a resource (a thread, a file descriptor). Either way the record says why and
the run exits 5; everything else workflow fails at is still an internal error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.proc.breaker import refusal
from orchestrator.model.errors import ExitCode
from orchestrator.pipeline.recorder import RecordWriter, internal_failure

if TYPE_CHECKING:
    from orchestrator.pipeline.request import RunStart


COULD_NOT_GO_ON = "workflow itself could not go on"


def start_helper(work: Callable[[], None]) -> threading.Thread | None:
    """The helper thread, started; None when the system refuses a thread (the stages still
    run: a run that can start no thread at all breaks in the pool, exit 5)."""
    helper = threading.Thread(target=work, name="workflow-meanwhile", daemon=True)
    try:
        helper.start()
    except RuntimeError as exc:
        if refusal(exc) is None:
            raise
        return None
    return helper


def broken_code(pool: AdaptiveWorkerPool) -> ExitCode | None:
    """5 when the runner broke during the run (DESIGN "A broken runner"), else None."""
    return ExitCode.RUNNER_BROKEN if pool.breaker.cause is not None else None


def full_breaks(pool: AdaptiveWorkerPool, run_dir: Path) -> Callable[[Path | str, OSError], None]:
    """While the stages run, a log or record of the run that finds no room breaks the
    runner; a full destination elsewhere (the cache) stays a warning."""

    def full(path: Path | str, exc: OSError) -> None:
        if Path(path).is_relative_to(run_dir):
            pool.breaker.disk_full(path, exc)

    return full


def halt(pool: AdaptiveWorkerPool, exc: BaseException) -> None:
    """workflow's own work failed while the stages run (the record's writer thread): no
    stage may run on, and a refused resource is the runner's cause before anything is
    cancelled, so the cancelled stages name it. `fail_run` says the rest at the end."""
    cause = refusal(exc)
    if cause is not None:
        pool.breaker.trip(f"{COULD_NOT_GO_ON}: {cause}")
    pool.cancel(immediate=True)


def fail_run(
    writer: RecordWriter, pool: AdaptiveWorkerPool, start: RunStart, exc: BaseException
) -> None:
    """workflow's own failure: the system refusing it a resource (no file descriptor, no
    process, no thread) is the runner's, recorded as such (exit 5); anything else ends the
    run with InternalError, the record written."""
    cause = refusal(exc)
    if cause is None:
        internal_failure(writer, pool, start, exc)
    pool.cancel(immediate=True)  # idempotent: nothing may run on after this
    pool.breaker.trip(f"{COULD_NOT_GO_ON}: {cause}")
