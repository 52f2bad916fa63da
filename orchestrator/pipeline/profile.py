"""`workflow profile`: run stages repeatedly, one at a time, and say how to schedule them.

Each round runs every selected stage once through the real engine with the sequential
strategy, so no measurement is disturbed by another stage; stages alternate between
rounds, so a slow spell of the machine spreads over all of them instead of one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.pool import AdaptiveWorkerPool, StageEvent
from orchestrator.engine.stageshapes import spec_of
from orchestrator.model.config import Strategy
from orchestrator.model.errors import Interrupted
from orchestrator.model.masking import run_masker
from orchestrator.model.records import StageRecord
from orchestrator.model.stats import median
from orchestrator.model.strategies import is_cpu_bound
from orchestrator.model.units import fixed_seconds
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.plan import Plan
from orchestrator.pipeline.signals import signals_cancel
from sla.trend_stats import mean, quantile, stdev

HEADROOM = 1.5  # suggested target: observed p95 times this, rounded up
SHORT_STAGE_S = 1.0  # shorter than this, starting it beside others gains nothing
# (below this many seconds, round targets up to a multiple of this many)
_ROUNDING = ((10.0, 1.0), (60.0, 5.0), (300.0, 10.0), (1200.0, 30.0), (math.inf, 60.0))


@dataclass(frozen=True)
class RoundEvent:
    """Progress news for the command line: a stage of a round started or ended."""

    round: int
    rounds: int
    stage: StageEvent


@dataclass(frozen=True)
class StageProfileReport:
    """What N runs of one stage measured, and what follows for scheduling and its SLA."""

    name: str
    number: int
    runs: int
    passed: int
    mean_s: float
    stdev_s: float
    p95_s: float
    cpu_percent: float
    peak_rss_bytes: int
    bound: str  # "cpu" or "io"
    strategy: str  # the executor that suits it: "process" or "thread"
    parallel: bool
    parallel_reason: str
    target_s: float  # the lane's current target
    suggested_s: float | None  # None unless every run passed
    error: str | None = None


def profile_log_dir(loaded: LoadedConfig) -> Path:
    """Where the profiling rounds keep their stage logs."""
    return loaded.output_path(loaded.config.workflow.reports) / "profile" / "logs"


def run_rounds(
    loaded: LoadedConfig,
    plan: Plan,
    iterations: int,
    on_event: Callable[[RoundEvent], None] | None = None,
    warnings: WriteWarnings | None = None,
) -> dict[str, list[StageRecord]]:
    """Run every planned stage `iterations` times, one stage at a time; records by stage.

    A log that cannot be written is noted in `warnings`; the stage runs all the same.
    """
    log_dir = profile_log_dir(loaded)
    masker = run_masker(s.config.env for s in plan.stages)
    results: dict[str, list[StageRecord]] = {stage.name: [] for stage in plan.stages}
    for number in range(1, iterations + 1):
        pool = AdaptiveWorkerPool(
            Strategy.SEQUENTIAL,
            1,
            usable_cpus=plan.usable_cpus,
            log_dir=log_dir,
            masker=masker,
            import_root=loaded.root,
            on_event=_relay(on_event, number, iterations),
            warnings=warnings,
        )
        for stage in plan.stages:
            pool.submit(spec_of(stage))
        with signals_cancel(pool) as received:
            try:
                pool.wait_all()
            finally:
                pool.shutdown()
        if received:
            raise Interrupted(received[0])
        for record in pool.results:
            results[record.name].append(record)
    return results


def _relay(
    on_event: Callable[[RoundEvent], None] | None, number: int, rounds: int
) -> Callable[[StageEvent], None] | None:
    if on_event is None:
        return None
    callback = on_event

    def relay(event: StageEvent) -> None:
        callback(RoundEvent(number, rounds, event))

    return relay


def suggest_target(p95_s: float) -> float:
    """The observed p95 with headroom, rounded up to a figure a person would write."""
    wanted = p95_s * HEADROOM
    step = next(step for limit, step in _ROUNDING if wanted < limit)
    return max(1.0, math.ceil(wanted / step) * step)


def worth_parallelising(duration_s: float, cpu_percent: float, cores: float) -> tuple[bool, str]:
    """Whether running this stage beside others would shorten a run, and why."""
    if duration_s < SHORT_STAGE_S:
        return False, f"too short ({fixed_seconds(duration_s, 2)}) for a parallel start to pay off"
    used = cpu_percent / 100.0
    if not is_cpu_bound(used):
        return (
            True,
            f"waits most of the time (CPU {cpu_percent:.0f}%): overlapping it costs no core",
        )
    if used >= cores - 0.5:
        return False, f"already keeps the {cores:g} usable cores busy ({used:.1f} cores)"
    return True, f"uses {used:.1f} of {cores:g} usable cores: other stages fit beside it"


def summarise(name: str, records: Sequence[StageRecord], plan: Plan) -> StageProfileReport:
    """The figures and advice for one stage from its runs."""
    stage = plan.stage(name)
    passed = [r for r in records if r.status.ok]
    measured = passed or list(records)
    durations = [r.duration_s for r in measured] or [0.0]
    cpu = mean([r.cpu_percent for r in measured]) if measured else 0.0
    bound = (
        "cpu" if is_cpu_bound(median([r.cpu_percent for r in measured] or [0.0]) / 100) else "io"
    )
    average = mean(durations)
    parallel, reason = worth_parallelising(average, cpu, plan.usable_cpus)
    p95 = quantile(durations, 0.95)
    failures = [r for r in records if not r.status.ok]
    return StageProfileReport(
        name=name,
        number=stage.number,
        runs=len(records),
        passed=len(passed),
        mean_s=average,
        stdev_s=stdev(durations),
        p95_s=p95,
        cpu_percent=cpu,
        peak_rss_bytes=max((r.peak_rss_bytes for r in measured), default=0),
        bound=bound,
        strategy="process" if bound == "cpu" else "thread",
        parallel=parallel,
        parallel_reason=reason,
        target_s=stage.target_s,
        suggested_s=suggest_target(p95) if records and not failures else None,
        error=_failure(failures[-1]) if failures else None,
    )


def _failure(record: StageRecord) -> str:
    detail = f": {record.error}" if record.error else ""
    return f"{record.status.value}{detail}"


def lane_strategy(reports: Sequence[StageProfileReport], cores: float) -> tuple[str, str]:
    """The strategy to give the lane, and why."""
    overlapping = [r for r in reports if r.parallel]
    if len(reports) < 2 or len(overlapping) < 2:
        return "sequential", "fewer than two stages gain from running beside another"
    cpu_bound = [r for r in overlapping if r.bound == "cpu"]
    if not cpu_bound:
        return "thread", "every stage worth overlapping mostly waits: threads suffice"
    demand = sum(r.cpu_percent for r in cpu_bound) / 100.0
    return "adaptive", (
        f"{len(cpu_bound)} CPU-bound stages need {demand:.1f} cores of {cores:g} usable: "
        "admit them by measured CPU use and overlap the I/O-bound ones freely"
    )
