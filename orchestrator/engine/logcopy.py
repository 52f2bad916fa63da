"""Copy a stage's merged stdout/stderr into its log file as it is produced.

Output streams through a fixed-size buffer: 100 MB of output costs no memory and loses no
byte. Secrets are masked on the way; a secret split across two reads is caught by
holding back an incomplete last line (bounded, so a stream without newlines still flows).

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
from typing import BinaryIO

from orchestrator.model.masking import Masker

CHUNK = 64 * 1024
MAX_HELD = 1024 * 1024
STOP_DRAIN_CHUNKS = 16  # what is read (at most 1 MiB) once told to stop, then no more


class LogCopier(threading.Thread):
    """Reads a pipe until EOF (or `finish`) and appends everything, masked, to a log file."""

    def __init__(self, source: BinaryIO, log: BinaryIO, masker: Masker) -> None:
        super().__init__(name="workflow-log", daemon=True)
        self.source = source
        self.log = log
        self.masker = masker
        self.bytes_written = 0
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
            with self._log_lock:
                if not self._log_closed:
                    self.log.flush()
            self.source.close()

    def finish(self, drain: float) -> None:
        """Wait up to `drain` seconds for EOF, then stop reading; the log is then free.

        What the pipe already holds is copied (up to 1 MiB); a process still writing into
        it after that writes into the void.
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
        cut = held.rfind(b"\n") + 1
        if cut == 0 and len(held) > MAX_HELD:
            cut = len(held) - self.masker.longest
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
            if self._log_closed:
                return
            self.log.write(data)
            self.bytes_written += len(data)
