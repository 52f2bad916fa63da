"""Copy a stage's merged stdout/stderr into its log file as it is produced.

Output streams through a fixed-size buffer: 100 MB of output costs no memory and loses no
byte. Secrets are masked on the way, whatever the read boundaries: the incomplete last
line is held back (a secret, or one line of a multi-line secret, never spans a newline),
and a stream without newlines is cut only where no secret can straddle the cut.

A log that cannot be written (a full disk) must not stop the copy: the pipe is drained to
its end all the same, or the stage would block on a full pipe and never finish.

The copy ends at end-of-file, or when the stage is over and `finish` says so: a process
that escaped the stage's tree may hold the pipe open long after the stage ended, and the
stage's end must not wait for it. After `finish` nothing more is written to the log, so
the caller may close it.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from typing import BinaryIO, Protocol

from orchestrator.model.masking import Masker

CHUNK = 64 * 1024
MAX_HELD = 1024 * 1024
STOP_DRAIN_CHUNKS = 16  # what is read (at most 1 MiB) once told to stop, then no more


class Writable(Protocol):
    """Where the copy goes: a binary file, or a Sink around one."""

    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...


def safe_cut(held: bytes | str, masker: Masker) -> int:
    """How many leading bytes (or characters) of `held` can be masked and written now.

    Up to the last newline; without one (and past MAX_HELD), up to where a secret could
    still be arriving, moved past any secret already found across that point.
    """
    cut = (held.rfind(b"\n") if isinstance(held, bytes) else held.rfind("\n")) + 1
    if cut > 0 or len(held) <= MAX_HELD:
        return cut
    cut = len(held) - max(masker.longest - 1, 0)
    for start, end in masker.spans(held):
        if start < cut < end:
            return end
    return cut


class LogCopier(threading.Thread):
    """Reads a pipe until EOF (or `finish`) and appends everything, masked, to a log file.

    `error` holds the first OSError writing the log (later output is drained and dropped).
    """

    def __init__(self, source: BinaryIO, log: Writable, masker: Masker) -> None:
        super().__init__(name="workflow-log", daemon=True)
        self.source = source
        self.log = log
        self.masker = masker
        self.bytes_written = 0
        self.error: OSError | None = None
        self._held = b""
        self._stop_read, self._stop_write = os.pipe()
        self._log_lock = threading.Lock()
        self._log_closed = False

    def run(self) -> None:
        """Copy until the last writer closes the pipe, or until told to stop."""
        fd = self.source.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(self._stop_read, select.POLLIN)
        try:
            while True:
                ready = dict(poller.poll())
                if ready.get(fd):
                    chunk = os.read(fd, CHUNK)
                    if not chunk:
                        break
                    self._take(chunk)
                elif ready.get(self._stop_read):
                    self._drain(fd)
                    break
            if self._held:
                self._write(self.masker.mask_bytes(self._held))
        finally:
            self._flush()
            self.source.close()

    def finish(self, drain: float) -> None:
        """Wait up to `drain` seconds for EOF, then stop reading; the log is then free.

        What the pipe already holds is copied (up to 1 MiB); a process still writing into
        it after that gets EPIPE (SIGPIPE by default), as when any reader goes away.
        """
        self.join(drain)
        if self.is_alive():
            os.write(self._stop_write, b"x")
            self.join(max(drain, 1.0))
        with self._log_lock:
            self._log_closed = True
        os.close(self._stop_write)
        if not self.is_alive():  # else it may still poll the fd: leave it open
            os.close(self._stop_read)

    def _take(self, chunk: bytes) -> None:
        if not self.masker.values:
            self._write(chunk)
            return
        held = self._held + chunk
        cut = safe_cut(held, self.masker)
        if cut > 0:
            self._write(self.masker.mask_bytes(held[:cut]))
            held = held[cut:]
        self._held = held

    def _drain(self, fd: int) -> None:
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            for _ in range(STOP_DRAIN_CHUNKS):
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    return
                self._take(chunk)

    def _write(self, data: bytes) -> None:
        with self._log_lock:
            if self.error is not None or self._log_closed:
                return
            try:
                self.log.write(data)
            except OSError as exc:
                self.error = exc
                return
            except ValueError:  # closed under it: the stage's end gave up on this copier
                self._log_closed = True
                return
            self.bytes_written += len(data)

    def _flush(self) -> None:
        with self._log_lock:
            if self.error is not None or self._log_closed:
                return
            try:
                self.log.flush()
            except OSError as exc:
                self.error = exc
            except ValueError:  # closed under it (see `_write`)
                self._log_closed = True
