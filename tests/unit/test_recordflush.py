"""The record's writer thread: asking never waits for the disk, the newest record wins.

Real threads; the "write" is a function that records which thread ran it and can be held
back on an event, so the tests decide the order of things instead of timing them.
"""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.pipeline.recordflush import RecordFlusher

GIVE_UP_S = 60.0  # only reached when the fault is back: the test then fails, not hangs


class HeldWrite:
    """A write that counts its calls, notes its thread, and waits while `hold` is clear."""

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.entered = threading.Event()
        self.calls = 0
        self.threads: set[int] = set()
        self.version = 0  # what the caller has asked for so far
        self.written: list[int] = []  # the version each write saw

    def __call__(self) -> None:
        self.calls += 1
        self.threads.add(threading.get_ident())
        self.entered.set()
        assert self.hold.wait(GIVE_UP_S)
        self.written.append(self.version)


def test_a_request_returns_while_the_write_is_held_back() -> None:
    write = HeldWrite()
    flusher = RecordFlusher(write)
    flusher.request()  # would never return on the caller's thread: the write is held
    assert write.entered.wait(GIVE_UP_S)
    assert threading.get_ident() not in write.threads
    write.hold.set()
    assert flusher.close() == []


@settings(max_examples=20, deadline=None)
@given(asks=st.integers(min_value=1, max_value=30))
def test_requests_during_a_write_fold_into_one_write_of_the_newest(asks: int) -> None:
    write = HeldWrite()
    flusher = RecordFlusher(write)
    flusher.request()
    assert write.entered.wait(GIVE_UP_S)
    for _ in range(asks):  # all while the first write is under way
        write.version += 1
        flusher.request()
    write.entered.clear()
    write.hold.set()
    assert write.entered.wait(GIVE_UP_S)  # the one write that follows
    while len(write.written) < 2:
        threading.Event().wait(0.01)
    assert flusher.close() == []
    assert write.calls == 2
    assert write.written[-1] == asks  # the newest state, not one write per request


def test_close_drops_a_pending_write_and_later_requests() -> None:
    write = HeldWrite()
    flusher = RecordFlusher(write)
    flusher.request()
    assert write.entered.wait(GIVE_UP_S)
    flusher.request()  # pending behind the held write
    closing = threading.Thread(target=flusher.close)
    closing.start()
    write.hold.set()
    closing.join(GIVE_UP_S)
    assert not closing.is_alive()
    flusher.request()
    assert write.calls == 1  # the caller writes the final record itself, after close


def test_a_failing_write_is_returned_by_close_and_the_thread_goes_on() -> None:
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        seen.append(len(seen))
        if len(seen) == 1:
            raise ValueError("broken record")
        done.set()

    heard: list[str] = []
    flusher = RecordFlusher(write, on_failure=lambda exc: heard.append(str(exc)))
    flusher.request()
    while not seen:
        threading.Event().wait(0.01)
    flusher.request()
    assert done.wait(GIVE_UP_S)
    failures = flusher.close()
    assert [str(exc) for exc in failures] == ["broken record"]
    assert heard == ["broken record"]  # told at once: the run ends every stage's tree
