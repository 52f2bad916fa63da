"""The log copier: masking whatever the read boundaries, draining a log that is full, and
bounded at the stage's end (never writing to a closed log).

Real pipes: the writer side is written in chosen pieces, and each piece is read before
the next is written, so the copier sees exactly those read boundaries.
"""

from __future__ import annotations

import array
import fcntl
import io
import os
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.proc.logcopy import MAX_HELD, LogCopier
from orchestrator.model.masking import MASK, Masker, mask_fields, secret_values
from orchestrator.model.status import GitRecord
from orchestrator.model.writes import WriteWarnings, append_or_discard

# A made-up key: what matters is that it has several lines, as a PEM key does.
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDxc2V0LWJ5LXRoZS10ZXN0cy1ub3QtYS1yZWFsLWtleS0xMjM0NQAAAJi\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
BODY_LINES = PEM.splitlines()[1:3]


def copy_in_pieces(pieces: list[bytes], masker: Masker, log: Path) -> bytes:
    """Feed `pieces` through a real pipe, one read each, and return the log's bytes."""
    read_end, write_end = os.pipe()
    source = os.fdopen(read_end, "rb", buffering=0)
    with log.open("wb") as stream:
        copier = LogCopier(source, stream, masker)
        copier.start()
        for piece in pieces:
            os.write(write_end, piece)
            _wait_until_read(read_end, copier)
        os.close(write_end)
        copier.join(timeout=30)
    assert not copier.is_alive()
    return log.read_bytes()


def _wait_until_read(read_end: int, copier: LogCopier) -> None:
    """Until the copier has taken everything in the pipe: the next piece is its own read."""
    waiting = array.array("i", [1])
    while waiting[0] and copier.is_alive():
        fcntl.ioctl(read_end, termios.FIONREAD, waiting)
        time.sleep(0.001)


def test_a_multi_line_secret_is_masked_line_by_line() -> None:
    masker = Masker(secret_values({"DEPLOY_KEY": PEM}))
    for line in BODY_LINES:
        assert line in masker.values
    printed = "using key:\n" + PEM.replace("\n", "\r\n")
    masked = masker.mask(printed)
    assert all(line not in masked for line in BODY_LINES)
    assert masked.count(MASK) == 4


def test_a_pem_key_printed_a_line_at_a_time_never_reaches_the_log(tmp_path: Path) -> None:
    masker = Masker(secret_values({"DEPLOY_KEY": PEM}))
    data = ("before\n" + PEM + "after\n").encode()
    # Every cut inside the key's first body line, one read boundary each time.
    start = data.index(BODY_LINES[0].encode())
    for cut in range(start, start + len(BODY_LINES[0]) + 1, 7):
        text = copy_in_pieces([data[:cut], data[cut:]], masker, tmp_path / "stage.log")
        assert all(line.encode() not in text for line in BODY_LINES)
        assert text.startswith(b"before\n") and text.endswith(b"after\n")


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=-30, max_value=30), st.integers(min_value=1, max_value=30))
def test_a_secret_in_a_stream_without_newlines_is_masked_at_any_cut(offset: int, step: int) -> None:
    hidden = "s3cr3t-value-0123456789"
    filler = b"x" * (MAX_HELD + 5)  # more than is held back waiting for a newline
    data = filler + hidden.encode() + b"y" * 50
    first = len(filler) + offset  # the first read ends near or inside the secret
    pieces = [data[:first], *(data[i : i + step] for i in range(first, len(data), step))]
    with tempfile.TemporaryDirectory() as directory:
        text = copy_in_pieces(pieces, Masker([hidden]), Path(directory) / "stage.log")
    assert hidden.encode() not in text
    assert text == filler + MASK.encode() + b"y" * 50


def test_a_log_on_a_full_disk_is_drained_to_the_end(tmp_path: Path) -> None:
    """A writer that never stops until read must finish even when the log is /dev/full."""
    warnings = WriteWarnings()
    read_end, write_end = os.pipe()
    total = 8 * 1024 * 1024  # far more than a pipe holds

    def produce() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(b"z" * total)

    producer = threading.Thread(target=produce)
    producer.start()
    with append_or_discard(Path("/dev/full"), warnings) as sink:
        copier = LogCopier(os.fdopen(read_end, "rb", buffering=0), sink, Masker(()))
        copier.start()
        copier.join(timeout=60)
    producer.join(timeout=60)
    assert not copier.is_alive() and not producer.is_alive()
    assert warnings.lines == ("log not written to /dev/full: No space left on device.",)


def test_every_string_of_a_record_is_masked_and_statuses_stay() -> None:
    masker = Masker(["tok-123456"])
    git = mask_fields(GitRecord(sha="tok-123456", branch="b", base="x tok-123456 y"), masker)
    assert (git.sha, git.branch, git.base) == (MASK, "b", f"x {MASK} y")


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
