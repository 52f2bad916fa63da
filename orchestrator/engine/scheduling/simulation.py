"""The pool's schedule, simulated: recorded durations placed by the pool's own rules.

A pure simulation: each stage keeps its duration (a cached stage its ~0 s), and the
pool's rules (engine/scheduling/admission.py: ready by priority, a free worker, `serial` alone,
shared resources within their limits, the adaptive core budget, the lowest free worker
slot) decide when it starts, and it starts its own recorded latency after that (the
pool's, on a busy machine); a split stage gives a core back as each part but the last
ends, as the pool does. Each placement says why the stage started when it did (the
`Link`). `engine/scheduling/replay.py` asks it what-if questions about a recorded run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from orchestrator.engine.scheduling import admission
from orchestrator.engine.scheduling.admission import Capacity
from orchestrator.engine.spec import StageSpec
from orchestrator.model.whatif import Link, Placement, WhatIf

EPSILON_S = 1e-6
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
    # A split stage: each part's end, seconds from the stage's start. Each part that ends
    # before the last gives a core back to the pool (engine/pool.py `release_core`).
    parts: tuple[float, ...] = ()
    # Seconds between the pool letting it in and its process starting (the pool's own
    # latency, larger on a loaded machine): its worker is held from the first.
    delay_s: float = 0.0

    def scaled(self, factor: float) -> ReplayStage:
        """The stage at `factor` of its duration, its parts' ends with it."""
        parts = tuple(end * factor for end in self.parts)
        return replace(self, duration_s=max(0.0, self.duration_s) * factor, parts=parts)


@dataclass(frozen=True)
class ReplaySetup:
    """The pool: worker slots, usable cores, and whether CPU-bound stages spend a budget."""

    workers: int
    cores: float
    budget_cores: bool
    limits: tuple[tuple[str, int], ...] = ()  # [resources]: (name, limit) pairs


@dataclass
class _Running:
    spec: StageSpec
    end: float
    slot: int
    releases: tuple[float, ...]  # when each part but the last ends (seconds from 0)

    def holding(self, now: float) -> StageSpec:
        """The spec as admission sees it at `now`: a core fewer per part that ended, as
        the pool's `_holding` does (at least one)."""
        released = sum(1 for t in self.releases if t <= now + EPSILON_S)
        if not released:
            return self.spec
        return replace(self.spec, cpu_demand=max(1.0, self.spec.demand - released))


@dataclass
class _State:
    """The simulation's moving parts at time `now` (local to one `simulate` call)."""

    now: float
    pending: dict[str, StageSpec]
    running: dict[str, _Running]
    placed: dict[str, Placement] = field(default_factory=dict)
    ends: dict[str, float] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)  # name -> [worker, core]
    held: dict[str, Link] = field(default_factory=dict)  # why it was last left waiting

    def active(self) -> list[StageSpec]:
        return [run.holding(self.now) for run in self.running.values()]

    def next_event(self) -> float:
        """The next stage end or part end after now."""
        ends = [run.end for run in self.running.values()]
        parts = [
            t for run in self.running.values() for t in run.releases if t > self.now + EPSILON_S
        ]
        return min(ends + parts)


def simulate(
    stages: Iterable[ReplayStage], setup: ReplaySetup, change: WhatIf = UNCHANGED
) -> dict[str, Placement]:
    """Every stage's placement under `change`; stages in a cycle of needs are left out."""
    changed = {s.name: _changed(s, change) for s in stages}
    specs = {name: _spec(stage) for name, stage in changed.items()}
    known = set(specs)
    capacity = Capacity(
        max(1, setup.workers + change.more_workers),
        setup.cores + change.more_cores,
        setup.budget_cores,
        dict(setup.limits),
    )
    state = _State(0.0, dict(specs), {})
    while state.pending or state.running:
        ready = admission.ready(list(state.pending.values()), set(state.ends), known)
        admitted = admission.admit(ready, state.active(), capacity)
        for spec in admitted:
            _start(state, spec, changed[spec.name])
        if not state.running:
            break  # what is still pending waits on a cycle: the pool reports it unstartable
        until = state.next_event()
        _count_waits(state, [s for s in ready if s not in admitted], capacity, until)
        state.now = until
        for name in [n for n, run in state.running.items() if run.end <= until]:
            del state.running[name]
            state.ends[name] = until
    return state.placed


def _changed(stage: ReplayStage, change: WhatIf) -> ReplayStage:
    if stage.name != change.stage:
        return stage
    scaled = stage.scaled(change.factor)
    return replace(scaled, needs=()) if change.drop_needs else scaled


def _spec(stage: ReplayStage) -> StageSpec:
    return StageSpec(
        name=stage.name,
        number=stage.number,
        kind=stage.kind,
        serial=stage.serial,
        uses=stage.uses,
        needs=stage.needs,
        expected_s=stage.expected_s,
        cpu_demand=stage.cpu_demand,
    )


def _start(state: _State, spec: StageSpec, stage: ReplayStage) -> None:
    slot = admission.free_slot({run.slot for run in state.running.values()})
    need_ends = {n: state.ends[n] for n in spec.needs if n in state.ends}
    ready_s = max(need_ends.values(), default=0.0)
    after, link = None, Link.START
    if state.now > ready_s + EPSILON_S:
        after, link = _let_in_by(state, state.held.get(spec.name, Link.WORKER))
    elif need_ends:
        after, link = max(need_ends, key=need_ends.__getitem__), Link.NEED
    worker_s, core_s = state.waits.get(spec.name, [0.0, 0.0])
    start = state.now + stage.delay_s
    end = start + stage.duration_s
    state.placed[spec.name] = Placement(
        ready_s=ready_s,
        start_s=start,
        end_s=end,
        waited_worker_s=worker_s,
        waited_core_s=core_s,
        after=after,
        link=link,
        slot=slot,
    )
    releases = tuple(sorted(start + t for t in stage.parts))[:-1]
    state.running[spec.name] = _Running(spec, end, slot, tuple(t for t in releases if t < end))
    del state.pending[spec.name]


def _let_in_by(state: _State, held: Link) -> tuple[str | None, Link]:
    """The stage whose end just now let a waiting stage in (the longest of those that
    ended now), or the split stage a part of which ended now."""
    ended = [n for n, end in state.ends.items() if abs(end - state.now) <= EPSILON_S]
    if ended:
        took = {n: state.placed[n].end_s - state.placed[n].start_s for n in ended}
        return max(took, key=took.__getitem__), held
    parted = [
        name
        for name, run in state.running.items()
        if any(abs(t - state.now) <= EPSILON_S for t in run.releases)
    ]
    return (parted[0] if parted else None), Link.PART


def _count_waits(state: _State, waiting: list[StageSpec], capacity: Capacity, until: float) -> None:
    """Charge the span to each ready stage left out, with the reason it was."""
    span = until - state.now
    active = state.active()
    for spec in waiting:
        why = _held_by(spec, active, capacity)
        state.held[spec.name] = why
        state.waits.setdefault(spec.name, [0.0, 0.0])[1 if why is Link.CORE else 0] += span


def _held_by(spec: StageSpec, active: list[StageSpec], capacity: Capacity) -> Link:
    """Why admission left `spec` out beside `active`: the same tests as `admission.admit`."""
    if len(active) >= capacity.workers or spec.serial or any(s.serial for s in active):
        return Link.WORKER
    if not admission.fits_resources(spec, active, capacity.limits):
        return Link.RESOURCE
    if capacity.budget_cores and not admission.fits_cpu(spec, active, capacity.cores):
        return Link.CORE
    return Link.WORKER
