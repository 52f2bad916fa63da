"""The one seam every writer of a run goes through: a failed write becomes a warning.

DESIGN.md, "Everything workflow writes can fail": a report, run.json, a log, the job
summary or the history that cannot be written (full, read-only, missing, a path through a
regular file, a name too long) costs one warning line naming it, never the run's exit code
and never what comes after it. One exception, DESIGN's "A broken runner": while the stages
run, a device too full for the run's own logs and record is the runner's failure, and
`on_full` hears of it (the run's breaker stops the launches).
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def reason(exc: OSError) -> str:
    """Why a write failed, in words: `No space left on device`."""
    if exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return errno.errorcode.get(exc.errno, str(exc))
    return str(exc) or type(exc).__name__


class WriteWarnings:
    """Collects one line per destination that could not be written; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._seen: set[str] = set()
        # Told of every write that failed for want of room (ENOSPC, EDQUOT): path, error.
        self.on_full: Callable[[Path | str, OSError], None] | None = None

    def add(self, what: str, path: Path | str, exc: OSError) -> None:
        """Note that `what` (e.g. "run.json") was not written to `path`; once per path."""
        key = f"{what}\0{path}"
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            self._lines.append(f"{what} not written to {path}: {reason(exc)}.")
            on_full = self.on_full
        if on_full is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            on_full(path, exc)

    def note(self, line: str) -> None:
        """Add a warning worded elsewhere (the history store words its own)."""
        with self._lock:
            self._lines.append(line)

    @property
    def lines(self) -> tuple[str, ...]:
        """Every warning so far, in the order they happened."""
        with self._lock:
            return tuple(self._lines)

    @contextmanager
    def guard(self, what: str, path: Path | str) -> Iterator[None]:
        """Run the block; an OSError in it becomes a warning instead of an exception."""
        try:
            yield
        except OSError as exc:
            self.add(what, path, exc)


class Sink:
    """A stream whose write failures are noted once; after one, what comes is dropped.

    A stage's output must keep flowing when its log cannot take it (a full disk): the
    stage would otherwise block on a full pipe, or a callable's print would fail it.
    """

    def __init__(self, stream: IO[Any], on_error: Callable[[OSError], None]) -> None:
        self.stream = stream
        self.on_error = on_error
        self.failed = False

    def write(self, data: Any) -> int:
        """Write `data` (str or bytes, as the stream was opened); never raises OSError."""
        self._do(lambda: self.stream.write(data))
        return len(data)

    def flush(self) -> None:
        """Flush; never raises OSError."""
        self._do(self.stream.flush)

    def close(self) -> None:
        """Close (the file is closed even when its last flush fails)."""
        self._do(self.stream.close, always=True)

    def _do(self, action: Callable[[], object], *, always: bool = False) -> None:
        if self.failed and not always:
            return
        try:
            action()
        except OSError as exc:
            if not self.failed:
                self.failed = True
                self.on_error(exc)


@contextmanager
def append_or_discard(
    path: Path, warnings: WriteWarnings | None, *, text: bool = False
) -> Iterator[Sink]:
    """`path` opened for appending (text or bytes) as a Sink; when it cannot be opened, a
    sink that drops what is written, so the stage still runs. Each failure warns once."""

    def warn(exc: OSError) -> None:
        if warnings is not None:
            warnings.add("log", path, exc)

    try:
        sink = Sink(_open_append(path, text=text), warn)
    except OSError as exc:
        warn(exc)
        sink = Sink(_open_append(Path(os.devnull), text=text), warn)
    try:
        yield sink
    finally:
        sink.close()


def _open_append(path: Path, *, text: bool) -> IO[Any]:
    return path.open("a", encoding="utf-8") if text else path.open("ab")
