"""What a replay of a run's schedule answers, as values the SLA rules can read.

The engine replays a run with its own admission policy (engine/scheduling/replay.py); the bottleneck
rules (sla/) may not import the engine, so they receive the replay through this
`Replayed` protocol. All times are seconds from the run's start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class WhatIf:
    """One change to the run: a stage faster (or gone), its needs dropped, a larger pool.

    `factor` scales `stage`'s duration (0.5: half as long, 0: gone); `drop_needs` lets
    that stage start without waiting for its needs; `more_workers` and `more_cores` grow
    the pool. The default changes nothing.
    """

    stage: str | None = None
    factor: float = 1.0
    drop_needs: bool = False
    more_workers: int = 0
    more_cores: float = 0.0


class Link(StrEnum):
    """Why a stage started when it did: what `Placement.after` did to let it in."""

    START = "start"  # it started as soon as it was ready, with nothing before it
    NEED = "need"  # its last need ended
    WORKER = "worker"  # every worker was busy (or a serial stage held the pool): one ended
    RESOURCE = "resource"  # a shared resource it uses was at its limit: a holder ended
    CORE = "core"  # the core budget was spent: a CPU-bound stage ended
    PART = "part"  # the core budget was spent: a part of a split stage ended, freeing one


@dataclass(frozen=True)
class Placement:
    """Where the replay put one stage: when it could start, when it did, and why so late.

    `waited_worker_s`: ready but every worker busy, the pool draining for a serial stage,
    or a shared resource at its limit; `waited_core_s`: a worker was free but the core
    budget was spent; `after`: the stage whose end (or, for `Link.PART`, one of whose
    parts' end) let it start, None when it started at once; `link` says which.
    """

    ready_s: float
    start_s: float
    end_s: float
    waited_worker_s: float = 0.0
    waited_core_s: float = 0.0
    after: str | None = None
    link: Link = Link.START
    slot: int = 1  # the worker slot it ran on, from 1 (the record's `worker` number)

    @property
    def after_need(self) -> bool:
        """`after` is one of its needs (else it freed a worker, a resource or cores)."""
        return self.link is Link.NEED


class Replayed(Protocol):
    """A replayed run: its schedule, its critical path, and what-if questions."""

    @property
    def wall_s(self) -> float: ...  # the replayed wall time

    @property
    def placements(self) -> Mapping[str, Placement]: ...

    @property
    def critical_path(self) -> tuple[str, ...]: ...  # earliest first; no mere waiters

    @property
    def waiting(self) -> tuple[str, ...]: ...  # on the chain only because they waited

    def placements_if(self, change: WhatIf) -> Mapping[str, Placement]:
        """Each stage's placement with `change` applied."""
        ...

    def wall_if(self, change: WhatIf) -> float:
        """The replayed wall time with `change` (longer than `wall_s` when it slows the run)."""
        ...

    def saving(self, change: WhatIf) -> float:
        """Seconds the replayed run gets shorter with `change` (0.0 when it does not)."""
        ...
