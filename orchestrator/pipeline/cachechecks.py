"""The result cache's after-run checks, on a thread of their own beside the pool.

A check reads the work tree and tools again (git processes, hashing): on the pool's
event thread it would hold back the admission of the next stage, so each ended stage is
handed to one worker thread here, as the record's writes are handed to
`pipeline/recordflush`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.model.records import StageRecord
    from orchestrator.pipeline.cached import RunCache


class CacheChecks:
    """The result cache's after-run checks, one at a time on their own thread.

    A check reads the work tree and tools again (git processes, hashing): on the pool's
    event thread it would hold back the admission of the next stage. `rewrite` writes the
    record again once a check has decided what the cache kept; `close` waits for every
    check and returns what failed in them (the run's internal failures).
    """

    def __init__(self, cache: RunCache | None, rewrite: Callable[[], object]) -> None:
        self.cache = cache
        self.rewrite = rewrite
        self.futures: list[Future[None]] = []
        self.worker = (
            None if cache is None else ThreadPoolExecutor(1, thread_name_prefix="workflow-cache")
        )

    def offer(self, record: StageRecord) -> None:
        """Check (and maybe store) an ended stage's result, off the caller's thread."""
        if self.worker is not None:
            self.futures.append(self.worker.submit(self._check, record))

    def _check(self, record: StageRecord) -> None:
        if self.cache is not None:
            self.cache.after(record)
            self.rewrite()

    def close(self) -> list[BaseException]:
        """Wait for every check; the exceptions they raised."""
        if self.worker is not None:
            self.worker.shutdown(wait=True)
        return [exc for future in self.futures if (exc := future.exception()) is not None]
