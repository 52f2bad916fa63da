"""The log copy of a stage: bounded at the stage's end, never writing to a closed log."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from orchestrator.engine.logcopy import LogCopier
from orchestrator.model.masking import MASK, Masker


def test_a_pipe_held_open_elsewhere_does_not_hold_the_copy(tmp_path: Path) -> None:
    # The write end stays open here, as in a daemon that escaped the stage: no EOF comes.
    read_end, write_end = os.pipe()
    log_path = tmp_path / "stage.log"
    try:
        with log_path.open("ab") as log:
            copier = LogCopier(os.fdopen(read_end, "rb", buffering=0), log, Masker(["hunter22"]))
            copier.start()
            os.write(write_end, b"first line\npassword hunter22 and no newline")
            started = time.monotonic()
            copier.finish(0.2)
            assert time.monotonic() - started < 5.0  # 0.2 s drain, then a prompt stop
            assert not copier.is_alive()
        # After the stop the pipe has no reader: a late writer gets EPIPE (SIGPIPE for a
        # process that keeps the default), and the copy never touches the closed log.
        with pytest.raises(BrokenPipeError):
            os.write(write_end, b"late output\n")
    finally:
        os.close(write_end)
    assert log_path.read_bytes() == f"first line\npassword {MASK} and no newline".encode()


def test_eof_ends_the_copy_before_any_drain_wait(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    log = io.BytesIO()
    copier = LogCopier(os.fdopen(read_end, "rb", buffering=0), log, Masker(()))
    copier.start()
    os.write(write_end, b"x" * 200_000)
    os.close(write_end)
    copier.finish(60.0)  # returns at EOF, not after a minute
    assert not copier.is_alive()
    assert log.getvalue() == b"x" * 200_000
    assert copier.bytes_written == 200_000
