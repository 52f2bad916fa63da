"""The circuit breaker: when the runner itself is broken, stop launching and say so.

DESIGN.md "A broken runner" (seed 000's circuit breaker): a full disk, the OOM killer
ending a stage, or three stages that could not start for the same reason that is not the
stage's own stop further launches; the running stages are ended, the record is written and
the run exits 5 with `runner broken: ...`, so CI retries the job elsewhere instead of
blaming the change.

What is the runner's and what is the stage's own (`spawn_cause`):

- the system refusing a resource to workflow: fork or a thread failing with `EAGAIN`
  ("Resource temporarily unavailable": the process limit) or `ENOMEM`, `EMFILE` or
  `ENFILE` ("Too many open files"): the runner's, whatever the stage;
- `ENOEXEC` ("Exec format error"): the file that cannot run decides. A script without a
  `#!` line, or a binary, inside the stage's own project is the stage's own; a program
  outside it (a system tool, an interpreter a `#!` line names, a binary of another
  architecture on the runner) is the runner's;
- a missing command (`ENOENT`), one that is not executable (`EACCES`), an argument list
  too long (`E2BIG`), a NUL in the command: always the stage's own.

Counting is by reason ("Too many open files"), over distinct stages: three stages that
each ran out of file descriptors are one broken runner; one stage retried three times is
not three.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from orchestrator.model.status import StageStatus

_Record = TypeVar("_Record", bound=Any)  # a StageRecord (records load after the first stage)

STAGES_TO_TRIP = 3
# errno -> its symbolic name, for the one-line reason ("Too many open files (EMFILE)").
RUNNER_ERRNOS = {
    errno.EAGAIN: "EAGAIN",
    errno.ENOMEM: "ENOMEM",
    errno.EMFILE: "EMFILE",
    errno.ENFILE: "ENFILE",
}
_NO_THREAD = "can't start new thread"
# workflow's packages and its runtime dependencies (pyproject.toml), several loaded late.
OWN_MODULES = frozenset(
    {"orchestrator", "lanes", "sla", "reports", "click", "pydantic", "psutil", "jinja2", "rich"}
    | {"tomlkit", "lxml", "markupsafe", "pydantic_core"}
)
_HEAD_BYTES = 256


def refusal(exc: BaseException) -> str | None:
    """The system's refusal of a resource in `exc`, as a phrase, or None when it is not one.

    `OSError` with EAGAIN/ENOMEM/EMFILE/ENFILE ("Too many open files (EMFILE)"), a thread
    that could not be started (Python says "can't start new thread" for EAGAIN), or one of
    workflow's own installed modules that could not be loaded.
    """
    if isinstance(exc, OSError) and exc.errno in RUNNER_ERRNOS:
        return f"{exc.strerror or 'refused'} ({RUNNER_ERRNOS[exc.errno]})"
    if isinstance(exc, RuntimeError) and _NO_THREAD in str(exc):
        # Python's words for pthread_create's EAGAIN: the same limit a fork meets.
        return f"{os.strerror(errno.EAGAIN)} (EAGAIN)"
    if isinstance(exc, ImportError) and (exc.name or "").partition(".")[0] in OWN_MODULES:
        # Installed, yet not found: a directory that could not be listed (Python's import
        # system takes "Too many open files" there for "no such module"), or files gone.
        return f"workflow could not load its own module {exc.name} (out of file descriptors?)"
    return None


def faulty_file(executable: Path) -> Path:
    """The file the kernel could not run: a script's `#!` interpreter, else the file itself."""
    try:
        with executable.open("rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError:
        return executable
    if not head.startswith(b"#!"):
        return executable
    words = head[2:].split(b"\n", 1)[0].split()
    if not words:
        return executable
    return Path(words[0].decode("utf-8", "replace"))


def exec_format_cause(executable: Path | None, own: Iterable[Path]) -> str | None:
    """Why "Exec format error" is the runner's, or None when it is the stage's own.

    `own` are the stage's own directories (its project, its working directory): a file
    that cannot run there is the stage's to fix.
    """
    if executable is None:
        return None
    culprit = faulty_file(executable)
    try:
        resolved = culprit.resolve()
    except (OSError, RuntimeError):
        resolved = culprit
    for directory in own:
        try:
            if resolved.is_relative_to(directory.resolve()):
                return None
        except (OSError, RuntimeError):
            continue
    return f"Exec format error (ENOEXEC): this runner cannot run {culprit}"


def spawn_cause(exc: BaseException, executable: Path | None, own: Iterable[Path]) -> str | None:
    """The runner's reason a stage could not start, or None when the reason is its own."""
    found = refusal(exc)
    if found is not None:
        return found
    if isinstance(exc, OSError) and exc.errno == errno.ENOEXEC:
        return exec_format_cause(executable, own)
    return None


def unstarted_reason(cause: str | None) -> str:
    """Why a stage never started: the run was cancelled, or the runner broke (`cause`)."""
    return "cancelled" if cause is None else f"not started: runner broken: {cause}"


def ended_by_runner(record: _Record, cause: str | None) -> _Record:
    """A stage record as the breaker leaves it: one that was cancelled while the runner
    broke (`cause`) says so, and carries the runner's fault; any other is unchanged."""
    if cause is None or record.status is not StageStatus.CANCELLED:
        return record
    fault = record.runner_fault or cause
    return replace(record, error=f"ended: runner broken: {cause}", runner_fault=fault)


def should_trip(stages_by_cause: dict[str, set[str]]) -> str | None:
    """The reason shared by at least three stages that could not start, or None.

    Shape: reason -> the names of the stages it kept from starting.
    """
    for cause, stages in stages_by_cause.items():
        if len(stages) >= STAGES_TO_TRIP:
            return f"{len(stages)} stages could not start: {cause}"
    return None


class Breaker:
    """One run's circuit breaker: counts the runner's failures, trips once (thread-safe).

    `on_trip` hears the one-line cause the first time the breaker trips: the pool stops
    launching and ends the running stages.
    """

    def __init__(self, on_trip: Callable[[str], None] | None = None) -> None:
        self.on_trip = on_trip
        self._lock = threading.Lock()
        self._cause: str | None = None
        self._unstarted: dict[str, set[str]] = {}

    @property
    def cause(self) -> str | None:
        """Why the runner is broken, or None while it is not."""
        with self._lock:
            return self._cause

    def cannot_start(self, stage: str, cause: str) -> None:
        """A stage could not start for the runner's `cause`; the third stage trips."""
        with self._lock:
            self._unstarted.setdefault(cause, set()).add(stage)
            verdict = should_trip(self._unstarted)
        if verdict is not None:
            self.trip(verdict)

    def disk_full(self, path: Path | str, exc: OSError) -> None:
        """workflow's own write of the run (a log, run.json) found no room."""
        self.trip(f"{exc.strerror or 'no space left'} writing {path}")

    def trip(self, cause: str) -> None:
        """The runner is broken (first cause wins): tell `on_trip`, once."""
        with self._lock:
            if self._cause is not None:
                return
            self._cause = cause
        if self.on_trip is not None:
            self.on_trip(cause)
