"""Python-callable stages: import "pkg.module:function", call it, judge what it returned.

DESIGN.md: returning None, True or 0 passes; False or a non-zero integer fails; an
exception fails with its one-line summary as the stage's error.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TextIO

from orchestrator.engine.proc.logcopy import safe_cut
from orchestrator.engine.spec import Attempt, Target
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.writes import Sink, WriteWarnings, append_or_discard


class CallContext(Protocol):
    """What a callable stage needs of the pool: the masker, imports, where to warn."""

    masker: Masker
    import_root: Path | None

    @property
    def warnings(self) -> WriteWarnings | None:
        """Where a log that cannot be written is noted (None: nowhere)."""


class CallableError(Exception):
    """The target could not be imported or is not callable."""


def resolve(target: Target, import_root: Path | None = None) -> Callable[[], object]:
    """The function a stage names; its package is looked up from the project root first."""
    if callable(target):
        return target
    module_name, _, attribute = target.partition(":")
    if import_root is not None and str(import_root) not in sys.path:
        sys.path.insert(0, str(import_root))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise CallableError(f"cannot import {module_name}: {summary(exc)}") from exc
    found: object = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise CallableError(f"{module_name} has no attribute {attribute}")
    if not callable(found):
        raise CallableError(f"{target} is not callable")
    return found


def summary(exc: BaseException) -> str:
    """An exception in one line: `ValueError: bad input`."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def verdict(result: object) -> str | None:
    """None when the returned value means pass, else the reason it failed."""
    if result is None or result is True:
        return None
    if result is False:
        return "returned False"
    if isinstance(result, int) and not isinstance(result, bool):
        return None if result == 0 else f"returned {result}"
    return None


class _Route:
    """One thread's output on its way to its log, masked as the log copier masks.

    Text is held back to the end of its line, so a secret written in pieces (or one line
    of a multi-line secret) is masked whole; `close` writes what is left.
    """

    def __init__(self, sink: Sink, masker: Masker) -> None:
        self.sink = sink
        self.masker = masker
        self.held = ""

    def write(self, text: str) -> None:
        if not self.masker.values:
            self.sink.write(text)  # a Sink: a full log never fails the stage's print
            return
        self.held += text
        cut = safe_cut(self.held, self.masker)
        if cut > 0:
            self.sink.write(self.masker.mask(self.held[:cut]))
            self.held = self.held[cut:]

    def close(self) -> None:
        if self.held:
            self.sink.write(self.masker.mask(self.held))
            self.held = ""


class _ThreadRouter(io.TextIOBase):
    """sys.stdout/err stand-in that sends each thread's writes to that thread's log."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.routes: dict[int, _Route] = {}

    def write(self, text: str) -> int:
        route = self.routes.get(threading.get_ident())
        if route is None:
            return self.fallback.write(text)
        route.write(text)
        return len(text)

    def flush(self) -> None:
        route = self.routes.get(threading.get_ident())
        (route.sink if route else self.fallback).flush()


_router_lock = threading.Lock()


@contextlib.contextmanager
def _routed_output(log: Sink, masker: Masker) -> Iterator[None]:
    with _router_lock:
        for name in ("stdout", "stderr"):
            if not isinstance(getattr(sys, name), _ThreadRouter):
                setattr(sys, name, _ThreadRouter(getattr(sys, name)))
        routers = [sys.stdout, sys.stderr]
    ident = threading.get_ident()
    for router in routers:
        if isinstance(router, _ThreadRouter):
            router.routes[ident] = _Route(log, masker)
    try:
        yield
    finally:
        for router in routers:
            if isinstance(router, _ThreadRouter):
                route = router.routes.pop(ident, None)
                if route is not None:
                    route.close()


def call_in_thread(target: Target, log_path: Path, context: CallContext) -> Attempt:
    """Call the target in the current thread; its prints go to the stage's log.

    Whatever it raises, SystemExit and KeyboardInterrupt included, is this stage's failure,
    never workflow's exit. A target that changes the working directory has it put back
    (and the log says so), so later stages and workflow's own paths are not moved.
    """
    started = time.monotonic()
    cpu_started = time.thread_time()
    cwd = Path.cwd()
    masker = context.masker
    log_file = append_or_discard(log_path, context.warnings, text=True)
    with log_file as log, _routed_output(log, masker):
        try:
            function = resolve(target, context.import_root)
            failure = verdict(function())
        except CallableError as exc:
            return Attempt(StageStatus.ERROR, None, time.monotonic() - started, error=str(exc))
        except BaseException as exc:  # a stage's exit or interrupt is its own failure
            failure = f"the stage raised {raised(exc)}"
            log.write(f"workflow: {masker.mask(failure)}\n")
        finally:
            if Path.cwd() != cwd:
                os.chdir(cwd)
                log.write(f"workflow: the stage changed the working directory; put back to {cwd}\n")
    duration = time.monotonic() - started
    cpu = time.thread_time() - cpu_started
    if failure is None:
        return Attempt(StageStatus.PASSED, 0, duration, cpu)
    return Attempt(StageStatus.FAILED, 1, duration, cpu, error=masker.mask(failure))


def raised(exc: BaseException) -> str:
    """`summary`, with SystemExit's code shown: `SystemExit(0)` is a failure, not a pass."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r})"
    return summary(exc)
