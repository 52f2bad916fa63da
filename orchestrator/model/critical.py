"""The critical path: the chain of stages that set a run's wall time.

One algorithm for the pool's figures and the bottleneck finding alike. From the stage
that ended last, step back to whatever it waited for that ended last: one of its
`needs`, or an earlier stage on the same worker (a stage also waits for a free worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Timed(Protocol):
    """What the path reads of a stage record (seconds from the run's start)."""

    @property
    def name(self) -> str: ...

    @property
    def needs(self) -> tuple[str, ...]: ...

    @property
    def worker(self) -> str | None: ...

    @property
    def start_offset_s(self) -> float: ...

    @property
    def duration_s(self) -> float: ...


def critical_path(stages: Sequence[Timed]) -> tuple[str, ...]:
    """Names on the chain that ended last, earliest first; () for no stages."""
    ran = {s.name: s for s in stages}
    chain: list[str] = []
    before: list[Timed] = list(ran.values())
    while before:
        last = max(before, key=_end)
        chain.append(last.name)
        before = [s for s in _waited_for(last, ran) if s.name not in chain]
    return tuple(reversed(chain))


def _end(stage: Timed) -> float:
    return stage.start_offset_s + stage.duration_s


def _waited_for(stage: Timed, ran: dict[str, Timed]) -> list[Timed]:
    """What had to end before `stage` could start: its needs, and its worker's earlier stages."""
    needs = [ran[n] for n in stage.needs if n in ran]
    earlier = [
        s
        for s in ran.values()
        if stage.worker is not None and s.worker == stage.worker and s.name != stage.name
        if _end(s) <= stage.start_offset_s + 1e-6
    ]
    return needs + earlier
