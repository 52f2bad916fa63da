"""A file's state as git would record it, read from the disk, never from an index's word.

"mode blob": the mode git gives it (`100644`, `100755`, a symlink `120000`) and the id
git gives its content, so a clean tracked file named by git's index and the same file
hashed here agree. What workflow cannot read exactly raises `Unkeyable`: the stage then
runs, and its record's `cache.reason` is the exception's sentence.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"  # a submodule's commit

# Within one process (a library caller, the tests, a run's check after a stage), a file's
# blob id is reused while its stat identity is unchanged, as git's index reuses a blob id:
# only to skip hashing, never as part of a key. Racy files (changed within the clock's
# granularity of the read) are never remembered.
_BLOBS: dict[tuple[str, int, int, int, int], str] = {}
_RACY_NS = 2_000_000_000


class Unkeyable(Exception):
    """What workflow cannot read exactly: the stage runs, and this sentence says why."""


def git_blob_id(content: bytes) -> str:
    """The id git gives a blob with this content (SHA-1 of "blob <size>\\0" + content)."""
    header = b"blob %d\0" % len(content)
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


def file_state(path: Path) -> str | None:
    """ "mode blob" as git would record the file: content, executable bit, symlink target.

    A symlink is its target's text (never followed); a directory or a missing file is None.
    """
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return f"{MODE_SYMLINK} {git_blob_id(os.fsencode(str(path.readlink())))}"
        if not stat.S_ISREG(info.st_mode):
            return None
        mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
        return f"{mode} {_blob_of(path, info)}"
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as exc:
        raise Unkeyable(f"{path.name} cannot be read ({exc.strerror})") from exc


def content_state(path: Path) -> str | None:
    """ "mode blob" of what reading `path` gives (symlinks followed), or None when nothing.

    A configuration file that a tool opens is its content wherever a link points.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None
        mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
        return f"{mode} {_blob_of(path, info)}"
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a link loop, no permission: what the tool reads is unknown
        raise Unkeyable(f"{path} cannot be read ({exc.strerror})") from exc


def _blob_of(path: Path, info: os.stat_result) -> str:
    identity = (str(path), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    found = _BLOBS.get(identity)
    if found is not None:
        return found
    blob = git_blob_id(path.read_bytes())
    if _settled(info):
        _BLOBS[identity] = blob
    return blob


def _settled(info: os.stat_result) -> bool:
    return time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > _RACY_NS
