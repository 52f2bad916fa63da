"""Passes kept under their key: content-addressed, verified, size-capped, shared safely.

Layout: `<cache>/v1/<key[:2]>/<key>.entry`, one file per key: a JSON header line (the
key, its parts, the stage, the run it came from, the duration, the log's SHA-256 and size)
then the log's bytes. An entry is written to a temporary file beside its place and renamed
into it, so a reader sees a whole entry or none, and two runs storing the same key both
succeed; no lock is ever held while a stage runs. An entry whose header, key or log
checksum does not verify is a miss (and is removed). A file's modification time is its
last use: a hit touches it, and pruning removes the least recently used entries first.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.cache.key import KeyParts, parts_from_data
from orchestrator.model.files import write_atomic

LAYOUT = "v1"
SUFFIX = ".entry"
SALT_NAME = "salt"
SALT_BYTES = 32
_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    """A stored pass: which stage, from which run, how long it took, under which key."""

    key: str
    stage: str
    run_id: str
    duration_s: float
    stored_at: float  # seconds since the epoch
    parts: KeyParts
    size: int = 0  # bytes on disk


@dataclass(frozen=True)
class Hit:
    """A verified entry and the log the stage wrote when it passed."""

    entry: Entry
    log: bytes


class CacheStore:
    """The cache directory; every method is safe to call from concurrent runs."""

    def __init__(self, root: Path, size_cap_bytes: int) -> None:
        self.root = root
        self.size_cap_bytes = size_cap_bytes

    def path_for(self, key: str) -> Path:
        """Where the entry for `key` lives (`key` must be a 64-digit hex digest)."""
        if not _KEY.match(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / LAYOUT / key[:2] / f"{key}{SUFFIX}"

    def salt(self, *, create: bool = True) -> bytes:
        """This cache's random salt for secret values in keys (32 bytes), made on first use.

        Kept in `<cache>/salt` (0600) and never exported: an entry keyed with a secret hits
        only in the cache that stored it. Concurrent first uses agree (the file is linked
        into place, never overwritten). `create` False (a dry run, `cache explain`: they
        write nothing) gives a throwaway salt when there is none yet: no entry can have been
        keyed with it. Raises OSError when it can be neither read nor made.
        """
        path = self.root / SALT_NAME
        with contextlib.suppress(FileNotFoundError):
            return _whole_salt(path.read_bytes(), path)
        # secrets and tempfile (with random) load only for a stage with a secret env value,
        # never on the way to the first stage otherwise. This module's one deferred import.
        import secrets  # noqa: PLC0415 - see the comment above
        import tempfile  # noqa: PLC0415 - see the comment above

        if not create:
            return secrets.token_bytes(SALT_BYTES)
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tmp-salt-", dir=self.root)  # mode 0600
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(SALT_BYTES))
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            Path(temp).unlink(missing_ok=True)
        return _whole_salt(path.read_bytes(), path)

    def get(self, key: str) -> Hit | None:
        """The verified entry for `key`, marked as just used; None for a miss."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        hit = _verified(data, key)
        if hit is None:
            with contextlib.suppress(OSError):
                path.unlink()  # damaged: a miss now, and room for the next pass
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # the LRU stamp
        return hit

    def put(self, entry: Entry, log: bytes) -> None:
        """Store a pass atomically, then prune to the size cap. Raises OSError."""
        path = self.path_for(entry.key)
        header = {
            "layout": LAYOUT,
            "key": entry.key,
            "stage": entry.stage,
            "run_id": entry.run_id,
            "duration_s": entry.duration_s,
            "stored_at": entry.stored_at,
            "parts": entry.parts.to_data(),
            "log_sha256": hashlib.sha256(log).hexdigest(),
            "log_size": len(log),
        }
        payload = json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + log
        write_atomic(path, payload)  # readers see a whole entry or none
        self.prune()

    def entries(self) -> list[Entry]:
        """Every entry whose header reads (logs are not verified here), newest first."""
        found = []
        for path in self._files():
            entry = _read_header(path)
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda e: e.stored_at, reverse=True)

    def last_pass(self, stage: str) -> Entry | None:
        """The most recently stored pass of `stage`, if any."""
        return next((e for e in self.entries() if e.stage == stage), None)

    def prune(self) -> int:
        """Remove least recently used entries until the store fits its cap; how many."""
        sized = []
        for path in self._files():
            with contextlib.suppress(OSError):
                info = path.stat()
                sized.append((info.st_mtime_ns, info.st_size, path))
        total = sum(size for _, size, _ in sized)
        removed = 0
        for _, size, path in sorted(sized, key=lambda item: item[0]):
            if total <= self.size_cap_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
            total -= size
        return removed

    def remove(self, key: str) -> bool:
        """Remove the entry for `key` (a pass that no longer holds); whether none is left."""
        try:
            self.path_for(key).unlink(missing_ok=True)
        except OSError:
            return False
        return True

    def clear(self) -> int:
        """Remove every entry; how many there were."""
        removed = 0
        for path in self._files():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed

    def _files(self) -> Iterator[Path]:
        base = self.root / LAYOUT
        if base.is_dir():
            yield from (p for p in base.glob(f"??/*{SUFFIX}") if _KEY.match(p.stem))


def _whole_salt(data: bytes, path: Path) -> bytes:
    if len(data) != SALT_BYTES:
        raise OSError(errno.EINVAL, "not a salt of 32 bytes", str(path))
    return data


def verify_entry(data: bytes, key: str) -> Hit | None:
    """The entry in `data` if it is whole and stored under `key`, else None."""
    return _verified(data, key)


def _verified(data: bytes, key: str) -> Hit | None:
    head, newline, log = data.partition(b"\n")
    header = _parse_header(head) if newline else None
    if header is None or header.get("key") != key:
        return None
    if header.get("log_size") != len(log):
        return None
    if header.get("log_sha256") != hashlib.sha256(log).hexdigest():
        return None
    entry = _entry(header, len(data))
    if entry is None or entry.parts.digest() != key:
        return None
    return Hit(entry, log)


def _read_header(path: Path) -> Entry | None:
    try:
        with path.open("rb") as stream:
            head = stream.readline()
        size = path.stat().st_size
    except OSError:
        return None
    header = _parse_header(head.rstrip(b"\n"))
    return None if header is None else _entry(header, size)


def _parse_header(head: bytes) -> dict[str, Any] | None:
    try:
        header = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(header, dict) or header.get("layout") != LAYOUT:
        return None
    return header


def _entry(header: dict[str, Any], size: int) -> Entry | None:
    try:
        return Entry(
            key=str(header["key"]),
            stage=str(header["stage"]),
            run_id=str(header["run_id"]),
            duration_s=float(header["duration_s"]),
            stored_at=float(header.get("stored_at", time.time())),
            parts=parts_from_data(header["parts"]),
            size=size,
        )
    except (KeyError, TypeError, ValueError):
        return None
