"""The scheduler's policy as plain functions: start priority, admission, niceness.

Nothing here starts a process, reads a clock or holds a lock: the pool passes what it
knows (the ready and running stages, when each started, the time now) and acts on the
answer, so each rule is unit-tested on hand-built specs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple, Protocol

from orchestrator.engine.spec import StageSpec
from orchestrator.model.strategies import is_cpu_bound

# A CPU-bound stage expected to end well before the longest running one starts at this
# niceness: when more CPU-bound processes are runnable than there are cores (a stage that
# forks workers, the machine's own load), the kernel serves the longest stage first, so
# the stage that sets the run's wall time is not stretched by ones that have time to spare.
NICE_OFF_PATH = 10
OFF_PATH_SLACK = 0.1  # "well before": by at least this share of the time left to that end


class Ranked(Protocol):
    """What the start priority looks at: a planned stage and a pool spec both have it."""

    @property
    def expected_s(self) -> float | None: ...  # seconds, from earlier runs; None: unknown

    @property
    def kind(self) -> str | None: ...  # "cpu", "io", or None (unknown)

    @property
    def number(self) -> int: ...


def priority(stage: Ranked) -> tuple[float, float, int]:
    """Sort key among ready stages: longest expected first, CPU-bound before I/O, then number.

    Starting the longest CPU-bound work first keeps the cores busy to the end instead of
    leaving one long stage running alone (longest-processing-time-first scheduling). The
    plan orders its stages by this key and the pool starts ready stages by it.
    """
    expected = stage.expected_s if stage.expected_s is not None else 0.0
    return (-expected, 0.0 if stage.kind == "cpu" else 1.0, stage.number)


EVERYTHING = "everything"  # the resource a `serial` stage holds, limit 1
NO_LIMITS: Mapping[str, int] = MappingProxyType({})


class Capacity(NamedTuple):
    """What admission may fill: worker slots, usable cores, whether to budget them, and
    how many stages may hold each shared resource at once ([resources]: name -> limit)."""

    workers: int
    cores: float
    budget_cores: bool  # the adaptive strategy: CPU-bound stages only up to `cores`
    limits: Mapping[str, int] = NO_LIMITS  # a resource absent here is not limited


def admit(
    ready: Sequence[StageSpec], running: Sequence[StageSpec], capacity: Capacity
) -> list[StageSpec]:
    """The ready stages to start now, in `ready`'s order (callers sort it by `priority`).

    A free worker is needed; a `serial` stage runs alone and waits for the pool to drain
    (nothing starts before it); a stage whose resource (`uses`) is held by as many
    stages as its limit, or under a core budget a CPU-bound stage that does not fit, is
    passed over, so a stage further down may still start.
    """
    chosen: list[StageSpec] = []
    for spec in ready:
        active = [*running, *chosen]
        if len(active) >= capacity.workers or any(s.serial for s in active):
            break
        if spec.serial:
            if not active:
                chosen.append(spec)
            break
        if not fits_resources(spec, active, capacity.limits):
            continue
        if capacity.budget_cores and not fits_cpu(spec, active, capacity.cores):
            continue
        chosen.append(spec)
    return chosen


def holds(spec: StageSpec) -> frozenset[str]:
    """The resources `spec` holds while it runs: its `uses`, and EVERYTHING when serial."""
    return frozenset((*spec.uses, EVERYTHING) if spec.serial else spec.uses)


def fits_resources(spec: StageSpec, active: Sequence[StageSpec], limits: Mapping[str, int]) -> bool:
    """Whether every resource `spec` uses has a free place beside the `active` stages.

    A resource without a limit in `limits` never blocks; EVERYTHING (a serial stage)
    counts every active stage as a holder, so a serial stage only fits an empty pool and
    nothing fits beside an active serial stage.
    """
    if any(s.serial for s in active):
        return False
    for name in holds(spec):
        limit = 1 if name == EVERYTHING else limits.get(name)
        if limit is None:
            continue
        holders = len(active) if name == EVERYTHING else sum(name in holds(s) for s in active)
        if holders >= limit:
            return False
    return True


def fits_cpu(spec: StageSpec, active: Sequence[StageSpec], cores: float) -> bool:
    """Whether `spec` fits the core budget beside `active` stages.

    Only CPU-bound stages (`is_cpu_bound(demand)`) spend the budget; I/O-bound
    ones overlap freely. A stage that can use several cores still starts when one whole
    core is free, and the first CPU-bound stage always starts.
    """
    if not is_cpu_bound(spec.demand):
        return True
    used = sum(s.demand for s in active if is_cpu_bound(s.demand))
    return used == 0 or used + min(spec.demand, 1.0) <= cores + 1e-6


class Started(NamedTuple):
    """A running stage and when it started (monotonic seconds)."""

    spec: StageSpec
    at: float


def niceness(spec: StageSpec, running: Sequence[Started], now: float, *, adaptive: bool) -> int:
    """NICE_OFF_PATH for a CPU-bound stage expected to end well before the longest
    CPU-bound stage already running; 0 otherwise (and whenever durations are unknown).

    `now` and `Started.at` are monotonic seconds; "well before" means by at least
    OFF_PATH_SLACK of the time left until that longest stage's expected end.
    """
    if not adaptive or not is_cpu_bound(spec.demand) or spec.expected_s is None:
        return 0
    ends = [
        other.at + other.spec.expected_s
        for other in running
        if other.spec.expected_s is not None and is_cpu_bound(other.spec.demand)
    ]
    if not ends:
        return 0
    horizon = max(ends)
    mine = now + spec.expected_s
    return NICE_OFF_PATH if mine <= horizon - OFF_PATH_SLACK * (horizon - now) else 0


def ready(
    pending: Sequence[StageSpec], finished: set[str] | frozenset[str], known: set[str]
) -> list[StageSpec]:
    """Pending stages whose needs (among the `known` stages) have all finished, by priority.

    A need naming no submitted stage is ignored (the plan drops needs outside the run).
    """
    chosen = [s for s in pending if all(n in finished for n in s.needs if n in known)]
    return sorted(chosen, key=priority)


def blocked(pending: Sequence[StageSpec], failed: set[str]) -> list[tuple[StageSpec, str]]:
    """Pending stages that can never start because a need did not pass, with the reason.

    `failed` names the finished stages whose status is not ok. A stage found blocked
    counts as not passed for the stages after it in `pending`, so a chain is skipped in
    one pass.
    """
    found = []
    failed = set(failed)
    for spec in pending:
        missing = [need for need in spec.needs if need in failed]
        if missing:
            found.append((spec, f"needs {', '.join(missing)}, which did not pass"))
            failed.add(spec.name)
    return found


def free_slot(taken: set[int]) -> int:
    """The lowest worker slot (from 1) not taken: what the record's `worker` names."""
    return next(i for i in range(1, len(taken) + 2) if i not in taken)
