"""Copy a stage's merged stdout/stderr into its log file as it is produced.

Output streams through a fixed-size buffer: 100 MB of output costs no memory and loses no
byte. Secrets are masked on the way; a secret split across two reads is caught by
holding back an incomplete last line (bounded, so a stream without newlines still flows).
"""

from __future__ import annotations

import os
import threading
from typing import BinaryIO

from orchestrator.model.masking import Masker

CHUNK = 64 * 1024
MAX_HELD = 1024 * 1024


class LogCopier(threading.Thread):
    """Reads a pipe until EOF and appends everything, masked, to a log file."""

    def __init__(self, source: BinaryIO, log: BinaryIO, masker: Masker) -> None:
        super().__init__(name="workflow-log", daemon=True)
        self.source = source
        self.log = log
        self.masker = masker
        self.bytes_written = 0

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
                cut = held.rfind(b"\n") + 1
                if cut == 0 and len(held) > MAX_HELD:
                    cut = len(held) - self.masker.longest
                if cut > 0:
                    self._write(self.masker.mask_bytes(held[:cut]))
                    held = held[cut:]
            if held:
                self._write(self.masker.mask_bytes(held))
        finally:
            self.log.flush()
            self.source.close()

    def _write(self, data: bytes) -> None:
        self.log.write(data)
        self.bytes_written += len(data)
