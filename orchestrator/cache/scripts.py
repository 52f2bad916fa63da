"""The programs in a Python environment's scripts directory, as the key knows them.

A console script's first line names its environment's interpreter by absolute path (a
different one in every clone's environment): what it runs is the rest. A binary (ruff's)
is its whole content. A wrapper may start any of them, so an environment's fingerprint
holds each one (`bin:NAME`), and a program replaced in place, without its distribution's
RECORD knowing, still changes the key. Digests are remembered by the file's identity.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from orchestrator.cache.remembered import REMEMBERED

_SCAN_LIMIT = 512  # entries: a larger scripts directory (/usr/bin) is the system's own
_NOT_PROGRAMS = ("python", "activate", "Activate")  # the interpreter is keyed apart;
# `activate` scripts name the environment's path


def scripts_fingerprint(root: Path) -> dict[str, str]:
    """ "bin:NAME" -> digest of every program in `root/bin` (none for a large one)."""
    try:
        entries = list(os.scandir(root / "bin"))
    except OSError:
        return {}
    if len(entries) > _SCAN_LIMIT:
        return {}
    found = {}
    for entry in entries:
        if entry.name.startswith(_NOT_PROGRAMS) or not entry.is_file():
            continue
        try:
            found[f"bin:{entry.name}"] = script_digest(Path(entry.path))
        except OSError:
            found[f"bin:{entry.name}"] = "unreadable"
    return found


def script_digest(path: Path) -> str:
    """SHA-256 of what a program runs: a `#!` script after its first line, else all of
    it; remembered by the file's identity. Raises OSError when it cannot be read."""
    info = path.stat()
    found = REMEMBERED.get(path, info)
    if found is not None:
        return found
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        head = stream.read(2)
        if head == b"#!":
            stream.readline()
        else:
            digest.update(head)
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    REMEMBERED.put(path, info, found)
    return found
