"""run.json rewritten on a thread of its own while the stages run: the newest record only.

A stage's end used to rewrite run.json (build, JSON, fsync) on the pool's scheduling
thread, under its event lock, before the next stage was admitted: every gap between one
stage's end and the next one's start paid for a disk flush. Here the end only asks for a
write; the writer thread builds the record from the pool as it then stands and writes
it. Asks that arrive while a write is under way fold into one more write (last write
wins: a newer record supersedes a pending one), as the cache's checks run on their own
thread (`pipeline/cachechecks.CacheChecks`). The final record is not this thread's: `close`
stops it first, and the run writes and flushes the final record itself before it
returns, so nothing older can land after it. A run killed outright keeps the last record
this thread wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from orchestrator.engine.proc.breaker import refusal


class RecordFlusher:
    """Runs `write` (build and write the record as it stands) on a writer thread.

    `request` never blocks on the disk; `close` waits for the write under way, drops a
    pending one (the caller writes the final record next) and returns the exceptions the
    writes raised (the run's internal failures); `on_failure` hears each at once (the run
    ends every stage's tree, as it did when the write failed on the pool's thread). When
    the system refuses the thread, each
    request writes at once on the caller's thread, as before there was a writer thread.
    """

    def __init__(
        self,
        write: Callable[[], object],
        on_failure: Callable[[BaseException], object] | None = None,
    ) -> None:
        self._write = write
        self._on_failure = on_failure
        self._changed = threading.Condition()
        self._pending = False
        self._closed = False
        self.failures: list[BaseException] = []
        self._thread: threading.Thread | None = threading.Thread(
            target=self._loop, name="workflow-record", daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError as exc:
            if refusal(exc) is None:
                raise
            self._thread = None

    def request(self) -> None:
        """Ask for the record to be written again (soon, by the writer thread)."""
        if self._thread is None:
            self._write_once()
            return
        with self._changed:
            if self._closed:
                return
            self._pending = True
            self._changed.notify()

    def close(self) -> list[BaseException]:
        """Stop the writer thread once its current write is done; what the writes raised."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()
        return list(self.failures)

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                self._pending = False
            self._write_once()

    def _write_once(self) -> None:
        try:
            self._write()
        except Exception as exc:  # the run ends with it once the stages are over
            self.failures.append(exc)
            if self._on_failure is not None:
                self._on_failure(exc)
