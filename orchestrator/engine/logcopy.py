"""Copy a stage's merged stdout/stderr into its log file as it is produced.

Output streams through a fixed-size buffer: 100 MB of output costs no memory and loses no
byte. Secrets are masked on the way, whatever the read boundaries: the incomplete last
line is held back (a secret, or one line of a multi-line secret, never spans a newline),
and a stream without newlines is cut only where no secret can straddle the cut.

A log that cannot be written (a full disk) must not stop the copy: the pipe is drained to
its end all the same, or the stage would block on a full pipe and never finish.
"""

from __future__ import annotations

import os
import threading
from typing import BinaryIO, Protocol

from orchestrator.model.masking import Masker

CHUNK = 64 * 1024
MAX_HELD = 1024 * 1024


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
    """Reads a pipe until EOF and appends everything, masked, to a log file.

    `error` holds the first OSError writing the log (later output is drained and dropped).
    """

    def __init__(self, source: BinaryIO, log: Writable, masker: Masker) -> None:
        super().__init__(name="workflow-log", daemon=True)
        self.source = source
        self.log = log
        self.masker = masker
        self.bytes_written = 0
        self.error: OSError | None = None

    def run(self) -> None:
        """Copy until the last writer of the pipe closes it."""
        fd = self.source.fileno()
        held = b""
        masking = bool(self.masker.values)
        try:
            while chunk := os.read(fd, CHUNK):
                if not masking:
                    self._write(chunk)
                    continue
                held += chunk
                cut = safe_cut(held, self.masker)
                if cut > 0:
                    self._write(self.masker.mask_bytes(held[:cut]))
                    held = held[cut:]
            if held:
                self._write(self.masker.mask_bytes(held))
        finally:
            self._flush()
            self.source.close()

    def _write(self, data: bytes) -> None:
        if self.error is not None:
            return
        try:
            self.log.write(data)
        except OSError as exc:
            self.error = exc
            return
        self.bytes_written += len(data)

    def _flush(self) -> None:
        if self.error is not None:
            return
        try:
            self.log.flush()
        except OSError as exc:
            self.error = exc
