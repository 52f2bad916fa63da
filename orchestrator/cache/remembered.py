"""Digests of large, rarely changing files, remembered by their stat identity.

Every key holds every Python environment a stage can reach, so every run would read the
RECORD of each installed distribution and hash each interpreter binary again: tens of
megabytes. As git's index does for the work tree, a digest is reused while the file's
identity (device, inode, size, modification and change times, to the nanosecond) is the
same, within one process and, through `<cache>/fingerprints.json`, between runs. A file
changed within two seconds of being read is never remembered (its times may not show a
second change in the same tick). The file is an optimisation only: a missing, damaged or
unwritable one costs a re-read, never a wrong key, and it never leaves the machine (the
cache's export carries only entries).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path

from orchestrator.model.files import write_atomic

FILE_NAME = "fingerprints.json"
SETTLED_NS = 2_000_000_000  # younger files may change again within their times' tick
_MAX_ENTRIES = 20_000


class Remembered:
    """path + stat identity -> digest; thread-safe, loaded and saved as one JSON object."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._changed = False
        self._loaded: set[Path] = set()

    def get(self, path: Path, info: os.stat_result) -> str | None:
        """The digest remembered for the file as `info` describes it, or None."""
        with self._lock:
            return self._values.get(_identity(path, info))

    def put(self, path: Path, info: os.stat_result, digest: str) -> None:
        """Remember `digest` for the file, unless it changed too recently to be sure."""
        if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) <= SETTLED_NS:
            return
        with self._lock:
            key = _identity(path, info)
            if self._values.get(key) != digest:
                self._values[key] = digest
                self._changed = True

    def recall(self, key: str) -> str | None:
        """What was kept under `key` (a caller's own identity of what it read), or None."""
        with self._lock:
            return self._values.get(key)

    def keep(self, key: str, value: str) -> None:
        """Keep `value` under `key`; the caller's key must change whenever `value` would
        (it names the identities of everything `value` was read from)."""
        with self._lock:
            if self._values.get(key) != value:
                self._values[key] = value
                self._changed = True

    def load(self, file: Path) -> None:
        """Add what `file` remembers (once per file per process); a bad file is ignored."""
        with self._lock:
            if file in self._loaded:
                return
            self._loaded.add(file)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return
        if isinstance(data, dict):
            with self._lock:
                for key, value in data.items():
                    if isinstance(key, str) and isinstance(value, str):
                        self._values.setdefault(key, value)

    def save(self, file: Path) -> None:
        """Write what is remembered to `file` when something new was learned; a file that
        cannot be written is skipped (the next run reads again)."""
        with self._lock:
            if not self._changed:
                return
            values = dict(list(self._values.items())[-_MAX_ENTRIES:])
            self._changed = False
        with contextlib.suppress(OSError):
            write_atomic(file, json.dumps(values, sort_keys=True))


def _identity(path: Path, info: os.stat_result) -> str:
    times = f"{info.st_mtime_ns}:{info.st_ctime_ns}"
    return f"{path}\0{info.st_dev}:{info.st_ino}:{info.st_size}:{times}"


REMEMBERED = Remembered()  # the process's; `current_keys` loads and saves it
