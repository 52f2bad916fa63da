"""Replay a run's schedule with the pool's own admission policy, and ask what-if questions.

The run record's stages, each at its recorded duration (a split stage with its parts'
ends), are placed by `engine/scheduling/simulation.py`, the pool's rules as a pure function. Asking
the same replay with one stage at half its duration says how much shorter the whole run
would be: the "virtual speed-up" that ranks the bottlenecks. The replayed schedule moves
stages as the pool would: a stage that queued behind another takes the first worker (or
core) that frees. CPU contention between stages is not modelled: a stage takes its
recorded time wherever it lands.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from orchestrator.engine.scheduling.simulation import (
    EPSILON_S,
    UNCHANGED,
    ReplaySetup,
    ReplayStage,
    simulate,
)
from orchestrator.model.records import RunRecord, StageRecord
from orchestrator.model.status import StageStatus
from orchestrator.model.strategies import rules_for
from orchestrator.model.whatif import Placement, WhatIf

__all__ = ["UNCHANGED", "Replay", "ReplaySetup", "ReplayStage", "replay_record", "simulate"]

# A stage at the chain's end that adds less than this share of the wall time (and at
# least TRIVIAL_S) and got there by waiting for a worker is named as waiting, not as the
# path.
TRIVIAL_SHARE = 0.01
TRIVIAL_S = 0.1
MAX_DELAY_S = 1.0  # the most start latency the replay keeps for a stage


@dataclass(frozen=True)
class Replay:
    """A run replayed: its placements, wall time, critical path and what-if savings."""

    stages: tuple[ReplayStage, ...]
    setup: ReplaySetup

    @functools.cached_property
    def placements(self) -> Mapping[str, Placement]:
        """Each stage's placement as replayed, unchanged."""
        return simulate(self.stages, self.setup)

    @property
    def wall_s(self) -> float:
        """The replayed wall time (the last end)."""
        return _wall(self.placements)

    @functools.cached_property
    def _chain(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        placed = self.placements
        if not placed:
            return (), ()
        chain: list[str] = []
        current: str | None = max(placed, key=lambda n: placed[n].end_s)
        while current is not None and current not in chain:
            chain.append(current)
            current = placed[current].after
        chain.reverse()
        trivial = max(TRIVIAL_S, TRIVIAL_SHARE * self.wall_s)
        cut = len(chain)
        # Only the chain's end: a short stage inside it still links what comes after.
        while cut > 1 and (
            placed[chain[cut - 1]].end_s - placed[chain[cut - 1]].start_s < trivial
            and placed[chain[cut - 1]].start_s > placed[chain[cut - 1]].ready_s + EPSILON_S
        ):
            cut -= 1
        return tuple(chain[:cut]), tuple(chain[cut:])

    @property
    def critical_path(self) -> tuple[str, ...]:
        """The chain that sets the wall time, earliest first, without mere waiters."""
        return self._chain[0]

    @property
    def waiting(self) -> tuple[str, ...]:
        """Stages at the chain that add next to nothing: they only waited for a worker."""
        return self._chain[1]

    def placements_if(self, change: WhatIf) -> Mapping[str, Placement]:
        """Each stage's placement with `change` applied."""
        return simulate(self.stages, self.setup, change)

    def wall_if(self, change: WhatIf) -> float:
        """The replayed wall time with `change` applied."""
        return _wall(self.placements_if(change))

    def saving(self, change: WhatIf) -> float:
        """Seconds the replayed run gets shorter with `change`; never negative."""
        return max(0.0, round(self.wall_s - self.wall_if(change), 4))

    def halved(self) -> dict[str, float]:
        """Each stage's saving at half its duration."""
        return {s.name: self.saving(WhatIf(stage=s.name, factor=0.5)) for s in self.stages}

    def with_stage(self, taken: StageRecord) -> Replay:
        """The same run with one stage as another run's record has it: its duration and
        its parts' ends (a real stage halved for real is seldom exactly half)."""
        stages = tuple(
            replace(s, duration_s=taken.duration_s, parts=part_ends(taken))
            if s.name == taken.name
            else s
            for s in self.stages
        )
        return Replay(stages, self.setup)

    def with_durations(self, durations: Mapping[str, float]) -> Replay:
        """The same run with some stages' durations replaced (seconds; a split stage's
        parts scaled with it)."""
        stages = tuple(
            s.scaled(durations[s.name] / s.duration_s)
            if s.name in durations and s.duration_s > 0
            else replace(s, duration_s=durations.get(s.name, s.duration_s))
            for s in self.stages
        )
        return Replay(stages, self.setup)


def _wall(placed: Mapping[str, Placement]) -> float:
    return max((p.end_s for p in placed.values()), default=0.0)


def part_ends(stage: StageRecord) -> tuple[float, ...]:
    """Each part's end, seconds from the split stage's start, earliest first."""
    return tuple(
        sorted(
            max(0.0, p.start_offset_s + p.duration_s - stage.start_offset_s) for p in stage.parts
        )
    )


def start_delay(stages: Sequence[StageRecord], stage: StageRecord) -> float:
    """How late the stage started after the last event before it (a stage's or a part's
    end, or the run's start), by the record, at most MAX_DELAY_S: the pool's latency,
    which the replay keeps for each stage. Longer gaps are not latency but something the
    replay does not model, and are left for `sla.agreement` to find."""
    start = stage.start_offset_s
    ends = [
        end
        for other in stages
        if other is not stage
        for end in (
            other.start_offset_s + other.duration_s,
            *(part.start_offset_s + part.duration_s for part in other.parts),
        )
        if end <= start + EPSILON_S
    ]
    return min(MAX_DELAY_S, max(0.0, start - max(ends, default=0.0)))


def replay_record(record: RunRecord) -> Replay:
    """The replay of a recorded run: the stages that ran, on the pool it had.

    Stages that never started (skipped, cancelled) are left out, and needs on them are
    ignored as the pool ignores needs outside the run. Older records without `serial`,
    `expected_s` or `cpu_demand` replay with the defaults (not serial, unknown, by kind).
    """
    ran = [s for s in record.stages if s.attempts > 0 and s.status is not StageStatus.SKIPPED]
    replayed = tuple(
        ReplayStage(
            name=s.name,
            number=s.number,
            duration_s=s.duration_s,
            needs=s.needs,
            serial=s.serial,
            uses=s.uses,
            kind=s.kind,
            cpu_demand=s.cpu_demand,
            expected_s=s.expected_s,
            # A merged record's parts ran on other runners, each from its own start.
            parts=() if record.shards else part_ends(s),
            delay_s=start_delay(ran, s),
        )
        for s in ran
    )
    rules = rules_for(record.strategy)
    setup = ReplaySetup(
        workers=1 if rules.one_worker else max(1, record.workers),
        cores=record.pool.usable_cpus or float(record.host.cpus) or 1.0,
        budget_cores=rules.budget_cores,
        limits=tuple(sorted(record.pool.resources.items())),
    )
    return Replay(replayed, setup)
