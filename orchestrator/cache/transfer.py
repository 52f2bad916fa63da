"""Carry the cache between CI jobs as one tar file (for actions/cache and artifacts).

Export writes every verified entry; import takes only members named like entries, checks
each (a damaged one is skipped and counted) and stores it atomically. Member names are
never used as paths: each entry's place is computed from its verified key, so an archive
cannot write outside the cache.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cache.store import LAYOUT, SUFFIX, CacheStore, verify_entry
from orchestrator.model.files import write_atomic

MAX_MEMBER_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Moved:
    """How many entries were exported or imported, and how many were refused."""

    entries: int
    skipped: int


def export_cache(store: CacheStore, archive: Path) -> Moved:
    """Write every entry to `archive` (a tar file). Raises OSError.

    The archive depends on the entries' content alone (sorted by key, no times, owners or
    modes), so its hash changes exactly when an entry was added or removed: a CI cache
    keyed on that hash saves a new copy only then (actions/cache entries are immutable).
    """
    count = 0
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for key in sorted(entry.key for entry in store.entries()):
            try:
                data = store.path_for(key).read_bytes()
            except FileNotFoundError:
                continue  # pruned by a concurrent run meanwhile
            info = tarfile.TarInfo(f"{LAYOUT}/{key[:2]}/{key}{SUFFIX}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
            count += 1
    return Moved(count, 0)


def import_cache(store: CacheStore, archive: Path) -> Moved:
    """Add the archive's valid entries to the store. Raises OSError or tarfile.TarError."""
    count = skipped = 0
    with tarfile.open(archive, "r") as tar:
        for member in tar:
            name = Path(member.name).name
            key = name.removesuffix(SUFFIX)
            if not member.isfile() or not name.endswith(SUFFIX) or member.size > MAX_MEMBER_BYTES:
                skipped += 1
                continue
            stream = tar.extractfile(member)
            data = stream.read() if stream is not None else b""
            try:
                target = store.path_for(key)
            except ValueError:
                skipped += 1
                continue
            if verify_entry(data, key) is None:
                skipped += 1
                continue
            write_atomic(target, data)
            count += 1
    store.prune()
    return Moved(count, skipped)
