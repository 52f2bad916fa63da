"""Replay a run's schedule with the pool's own admission policy, and ask what-if questions.

A pure simulation: each stage keeps its recorded duration (a cached stage its ~0 s), and
the pool's rules (engine/admission.py: ready by priority, a free worker, `serial` alone,
shared resources within their limits, the adaptive core budget, the lowest free worker
slot) decide when it starts. Asking the same replay with one stage at half its duration
says how much shorter the whole run would be: the "virtual speed-up" that ranks the
bottlenecks. CPU contention between stages is not modelled: a stage takes its recorded
time wherever it lands.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from orchestrator.engine import admission
from orchestrator.engine.admission import Capacity
from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import RunRecord
from orchestrator.model.status import StageStatus
from orchestrator.model.whatif import Placement, WhatIf

EPSILON_S = 1e-6
# A stage at the chain's end that adds less than this share of the wall time (and at
# least TRIVIAL_S) and got there by waiting for a worker is named as waiting, not as the
# path.
TRIVIAL_SHARE = 0.01
TRIVIAL_S = 0.1
UNCHANGED = WhatIf()


@dataclass(frozen=True)
class ReplayStage:
    """A stage as the replay needs it (from the run record)."""

    name: str
    number: int
    duration_s: float
    needs: tuple[str, ...] = ()
    serial: bool = False
    uses: tuple[str, ...] = ()  # shared resources it held
    kind: str | None = None
    cpu_demand: float | None = None  # cores the pool budgeted for it
    expected_s: float | None = None  # what the pool expected (its start priority)


@dataclass(frozen=True)
class ReplaySetup:
    """The pool: worker slots, usable cores, and whether CPU-bound stages spend a budget."""

    workers: int
    cores: float
    budget_cores: bool
    limits: tuple[tuple[str, int], ...] = ()  # [resources]: (name, limit) pairs


@dataclass
class _State:
    """The simulation's moving parts at time `now` (local to one `simulate` call)."""

    now: float
    pending: dict[str, StageSpec]
    running: dict[str, tuple[StageSpec, float, int]]  # spec, end, slot
    placed: dict[str, Placement]
    ends: dict[str, float]
    waits: dict[str, list[float]]  # name -> [worker, core]


def simulate(
    stages: Iterable[ReplayStage], setup: ReplaySetup, change: WhatIf = UNCHANGED
) -> dict[str, Placement]:
    """Every stage's placement under `change`; stages in a cycle of needs are left out."""
    specs, durations = _specs(stages, change)
    known = set(specs)
    capacity = Capacity(
        max(1, setup.workers + change.more_workers),
        setup.cores + change.more_cores,
        setup.budget_cores,
        dict(setup.limits),
    )
    state = _State(0.0, dict(specs), {}, {}, {}, {n: [0.0, 0.0] for n in specs})
    while state.pending or state.running:
        ready = admission.ready(list(state.pending.values()), set(state.ends), known)
        active = [spec for spec, _, _ in state.running.values()]
        admitted = admission.admit(ready, active, capacity)
        for spec in admitted:
            _start(state, spec, durations[spec.name])
        if not state.running:
            break  # what is still pending waits on a cycle: the pool reports it unstartable
        next_end = min(end for _, end, _ in state.running.values())
        _count_waits(state, [s for s in ready if s not in admitted], capacity, next_end)
        state.now = next_end
        for name in [n for n, (_, end, _) in state.running.items() if end <= next_end]:
            del state.running[name]
            state.ends[name] = next_end
    return state.placed


def _specs(
    stages: Iterable[ReplayStage], change: WhatIf
) -> tuple[dict[str, StageSpec], dict[str, float]]:
    specs: dict[str, StageSpec] = {}
    durations: dict[str, float] = {}
    for stage in stages:
        changed = stage.name == change.stage
        needs = () if changed and change.drop_needs else stage.needs
        specs[stage.name] = StageSpec(
            name=stage.name,
            number=stage.number,
            kind=stage.kind,
            serial=stage.serial,
            uses=stage.uses,
            needs=needs,
            expected_s=stage.expected_s,
            cpu_demand=stage.cpu_demand,
        )
        durations[stage.name] = max(0.0, stage.duration_s) * (change.factor if changed else 1.0)
    return specs, durations


def _start(state: _State, spec: StageSpec, duration: float) -> None:
    slot = admission.free_slot({slot for _, _, slot in state.running.values()})
    need_ends = {n: state.ends[n] for n in spec.needs if n in state.ends}
    ready_s = max(need_ends.values(), default=0.0)
    after, after_need = None, False
    if state.now > ready_s + EPSILON_S:
        # It waited for the pool: the stage that ended just now let it in.
        ended_now = [n for n, end in state.ends.items() if abs(end - state.now) <= EPSILON_S]
        took = {n: state.placed[n].end_s - state.placed[n].start_s for n in ended_now}
        after = max(took, key=took.__getitem__, default=None)
    elif need_ends:
        after, after_need = max(need_ends, key=need_ends.__getitem__), True
    worker_s, core_s = state.waits[spec.name]
    state.placed[spec.name] = Placement(
        ready_s=ready_s,
        start_s=state.now,
        end_s=state.now + duration,
        waited_worker_s=worker_s,
        waited_core_s=core_s,
        after=after,
        after_need=after_need,
        slot=slot,
    )
    state.running[spec.name] = (spec, state.now + duration, slot)
    del state.pending[spec.name]


def _count_waits(state: _State, waiting: list[StageSpec], capacity: Capacity, until: float) -> None:
    """Charge the span to each ready stage left out: a full pool, or the core budget."""
    span = until - state.now
    active = [spec for spec, _, _ in state.running.values()]
    pool_full = len(active) >= capacity.workers or any(s.serial for s in active)
    for spec in waiting:
        for_cores = (
            capacity.budget_cores
            and not pool_full
            and not spec.serial
            and not admission.fits_cpu(spec, active, capacity.cores)
        )
        state.waits[spec.name][1 if for_cores else 0] += span


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

    def wall_if(self, change: WhatIf) -> float:
        """The replayed wall time with `change` applied."""
        return _wall(simulate(self.stages, self.setup, change))

    def saving(self, change: WhatIf) -> float:
        """Seconds the replayed run gets shorter with `change`; never negative."""
        return max(0.0, round(self.wall_s - self.wall_if(change), 4))

    def halved(self) -> dict[str, float]:
        """Each stage's saving at half its duration."""
        return {s.name: self.saving(WhatIf(stage=s.name, factor=0.5)) for s in self.stages}

    def with_durations(self, durations: Mapping[str, float]) -> Replay:
        """The same run with some stages' durations replaced (seconds)."""
        stages = tuple(
            replace(s, duration_s=durations.get(s.name, s.duration_s)) for s in self.stages
        )
        return Replay(stages, self.setup)


def _wall(placed: Mapping[str, Placement]) -> float:
    return max((p.end_s for p in placed.values()), default=0.0)


def replay_record(record: RunRecord) -> Replay:
    """The replay of a recorded run: the stages that ran, on the pool it had.

    Stages that never started (skipped, cancelled) are left out, and needs on them are
    ignored as the pool ignores needs outside the run. Older records without `serial`,
    `expected_s` or `cpu_demand` replay with the defaults (not serial, unknown, by kind).
    """
    ran = tuple(
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
        )
        for s in record.stages
        if s.attempts > 0 and s.status is not StageStatus.SKIPPED
    )
    sequential = record.strategy == Strategy.SEQUENTIAL.value
    setup = ReplaySetup(
        workers=1 if sequential else max(1, record.workers),
        cores=record.pool.usable_cpus or float(record.host.cpus) or 1.0,
        budget_cores=record.strategy == Strategy.ADAPTIVE.value,
        limits=tuple(sorted(record.pool.resources.items())),
    )
    return Replay(ran, setup)
