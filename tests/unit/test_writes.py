"""The guarded-write seam, against real unwritable places.

Tests run as root here, where a chmod 0500 directory does not deny anything, so EACCES
comes from creating a file under /sys (the kernel refuses whoever asks). ENOSPC is
/dev/full, ENOTDIR a path through a regular file, ENAMETOOLONG a 300-byte name, ENOENT a
missing parent. None of these paths exists, so nothing outside tmp_path is ever changed.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from orchestrator.model.writes import WriteWarnings, append_or_discard

FULL = Path("/dev/full")
DENIED = Path("/sys/workflow-test-never-created.log")


def unwritable(tmp_path: Path) -> dict[str, Path]:
    regular = tmp_path / "regular-file"
    regular.write_text("x")
    return {
        "ENOSPC": FULL,
        "ENOTDIR": regular / "log.txt",
        "ENAMETOOLONG": tmp_path / ("n" * 300 + ".log"),
        "ENOENT": tmp_path / "missing" / "log.txt",
        "EACCES": DENIED,
    }


@pytest.mark.parametrize("kind", ["ENOSPC", "ENOTDIR", "ENAMETOOLONG", "ENOENT", "EACCES"])
def test_a_failed_write_is_one_warning_naming_the_path(tmp_path: Path, kind: str) -> None:
    path = unwritable(tmp_path)[kind]
    warnings = WriteWarnings()
    with warnings.guard("report", path), path.open("w") as stream:
        stream.write("data\n")
    assert warnings.lines == (f"report not written to {path}: {_strerror(kind)}.",)
    after = []
    with warnings.guard("report", path):  # the same place twice: still one line
        path.write_text("again")
    after.append("went on")
    assert len(warnings.lines) == 1
    assert after == ["went on"]


@pytest.mark.parametrize("kind", ["ENOSPC", "ENOTDIR", "ENAMETOOLONG", "ENOENT", "EACCES"])
def test_a_log_that_cannot_be_written_still_takes_output(tmp_path: Path, kind: str) -> None:
    path = unwritable(tmp_path)[kind]
    warnings = WriteWarnings()
    with append_or_discard(path, warnings) as log:
        log.write(b"x" * 100_000)  # more than a buffer: a full disk refuses it at once
        log.write(b"more")  # and whatever follows is dropped without another word
    assert warnings.lines == (f"log not written to {path}: {_strerror(kind)}.",)


def test_a_writable_log_is_appended_without_warning(tmp_path: Path) -> None:
    path = tmp_path / "stage.log"
    path.write_text("before\n")
    warnings = WriteWarnings()
    with append_or_discard(path, warnings, text=True) as log:
        log.write("after\n")
    assert path.read_text() == "before\nafter\n"
    assert warnings.lines == ()


def _strerror(kind: str) -> str:
    return os.strerror(getattr(errno, kind))
