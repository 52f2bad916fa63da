"""The console that may not be there: stdout/stderr writes that can never end a run.

`workflow run | head -1` closes the pipe after one line, `>&-` starts workflow without a
stdout, `>/dev/full` fails every flush. None of that may cost the run its record, reports
or history, or change its exit code (DESIGN "Everything workflow writes can fail"). So the
entry point wraps both streams once: a write that fails is dropped, and the first failure
of stdout is told in one line on stderr (when stderr itself works).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import TextIO

from orchestrator.model.writes import reason


class GuardedStream(io.TextIOBase):
    """A text stream that drops what it cannot write. `stream` None: the fd was closed."""

    def __init__(self, stream: TextIO | None, name: str, warn: io.TextIOBase | None) -> None:
        self.stream = stream
        self.name_ = name
        self.warn = warn  # where the one warning goes (stderr's guard for stdout), or None
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                if self.stream is None:
                    raise ValueError("it was closed when workflow started")
                self.stream.write(text)
            except (OSError, ValueError) as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if not self.broken and self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError) as exc:
                self._fail(exc)

    def isatty(self) -> bool:
        if self.broken or self.stream is None:
            return False
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        if self.stream is None:
            raise io.UnsupportedOperation(f"{self.name_} is closed")
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase types it as a plain attribute
        return getattr(self.stream, "encoding", None) or "utf-8"

    def _fail(self, exc: BaseException) -> None:
        self.broken = True
        why = reason(exc) if isinstance(exc, OSError) else str(exc)
        if self.warn is not None:
            with contextlib.suppress(OSError, ValueError):
                self.warn.write(
                    f"workflow: warning: cannot write to {self.name_} ({why}); "
                    "the run goes on and writes its record and reports\n"
                )
                self.warn.flush()


def guard_console() -> None:
    """Wrap sys.stdout and sys.stderr once (idempotent), and put /dev/null on a closed
    fd 0, 1 or 2 so that no file workflow opens later (a log, the history) takes its
    number and receives console output by mistake."""
    if isinstance(sys.stdout, GuardedStream):
        return
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            spare = os.open(os.devnull, os.O_RDWR)
            if spare != fd:
                os.dup2(spare, fd)
                os.close(spare)
    err = GuardedStream(sys.stderr, "stderr", None)
    sys.stderr = err
    sys.stdout = GuardedStream(sys.stdout, "stdout", err)
