"""Bottleneck rules: where a run's time went, each finding with a plain recommendation.

Pure functions over the frozen run record (the seed's "bottleneck detection", made
specific). Each finding carries `cost_s`, the wall-clock seconds it is estimated to cost,
and `find_bottlenecks` ranks by it; advice about resources (idle workers, memory) costs 0.
"""

from __future__ import annotations

import graphlib
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from orchestrator.model.records import Bottleneck, RunRecord, StageRecord, StageStatus, wall_time_s
from orchestrator.model.units import seconds, size


@dataclass(frozen=True)
class BottleneckThresholds:
    """When a rule fires; the defaults are the ones issue 5 names."""

    slow_stage_ratio: float = 1.5  # a stage over 1.5x the mean stage duration
    uneven_ratio: float = 3.0  # longest over 3x the shortest, or worker busy-time spread
    trivial_stage_s: float = 1.0  # shorter stages are noise for the ratio rules
    thread_cpu_percent: float = 80.0  # a callable on a thread past this holds the GIL
    waiting_cpu_percent: float = 20.0  # a process-pool stage under this mostly waits
    underused_percent: float = 50.0  # pool utilization under this: fewer workers
    oversubscribed_min_s: float = 5.0  # CPU demand over the cores for longer than this
    memory_ratio: float = 0.9  # peak RSS at this share of available memory


@dataclass(frozen=True)
class _Run:
    """What every rule reads: the record, the stages that ran, the thresholds."""

    record: RunRecord
    stages: tuple[StageRecord, ...]
    t: BottleneckThresholds
    memory_bytes: int


def _end(stage: StageRecord) -> float:
    return stage.start_offset_s + stage.duration_s


def _finding(
    kind: str, stage: str | None, detail: str, advice: str, cost: float = 0.0
) -> Bottleneck:
    return Bottleneck(kind=kind, stage=stage, detail=detail, recommendation=advice, cost_s=cost)


def _segments(
    stages: Iterable[StageRecord], value: Callable[[StageRecord], float]
) -> list[tuple[float, float, float]]:
    """(start, end, summed value of the stages running) for each span between events."""
    events = sorted({t for s in stages for t in (s.start_offset_s, _end(s))})
    return [
        (low, high, sum(value(s) for s in stages if s.start_offset_s <= low and _end(s) >= high))
        for low, high in itertools.pairwise(events)
    ]


def slow_stages(run: _Run) -> list[Bottleneck]:
    """Stages over `slow_stage_ratio` times the mean duration of the run's stages."""
    if len(run.stages) < 2:
        return []
    mean = sum(s.duration_s for s in run.stages) / len(run.stages)
    return [
        _finding(
            "slow_stage",
            s.name,
            f"{s.name} took {seconds(s.duration_s)}, "
            f"{s.duration_s / mean:.1f}x the mean stage duration of {seconds(mean)}.",
            f"Split {s.name} (e.g. shard its tests) or cache its inputs; "
            "it is the stage most worth making faster.",
            s.duration_s - mean,
        )
        for s in run.stages
        if s.duration_s > run.t.slow_stage_ratio * mean and s.duration_s >= run.t.trivial_stage_s
    ]


def uneven_stages(run: _Run) -> list[Bottleneck]:
    """The longest stage over `uneven_ratio` times the shortest non-trivial one."""
    real = [s for s in run.stages if s.duration_s >= run.t.trivial_stage_s]
    if len(real) < 2 or run.record.workers < 2:
        return []
    longest = max(real, key=lambda s: s.duration_s)
    shortest = min(real, key=lambda s: s.duration_s)
    if longest.duration_s <= run.t.uneven_ratio * shortest.duration_s:
        return []
    balanced = sum(s.duration_s for s in real) / min(run.record.workers, len(real))
    return [
        _finding(
            "uneven_distribution",
            longest.name,
            f"{longest.name} took {seconds(longest.duration_s)}, "
            f"{longest.duration_s / shortest.duration_s:.1f}x the shortest stage, "
            f"{shortest.name} ({seconds(shortest.duration_s)}).",
            f"Split {longest.name} into parts about as long as the other stages, "
            "so the workers finish together.",
            max(0.0, longest.duration_s - balanced),
        )
    ]


def uneven_workers(run: _Run) -> list[Bottleneck]:
    """Worker busy times spread over `uneven_ratio`: one worker did most of the work."""
    busy: dict[str, float] = defaultdict(float)
    for stage in run.stages:
        if stage.worker is not None:
            busy[stage.worker] += stage.duration_s
    if len(busy) < 2:
        return []
    most, least = max(busy, key=busy.__getitem__), min(busy, key=busy.__getitem__)
    if busy[least] <= 0 or busy[most] <= run.t.uneven_ratio * busy[least]:
        return []
    cost = busy[most] - sum(busy.values()) / len(busy)
    if cost < run.t.trivial_stage_s:
        return []  # a second of imbalance is scheduling noise, not a finding
    return [
        _finding(
            "uneven_distribution",
            None,
            f"worker {most} was busy {seconds(busy[most])}, worker {least} "
            f"only {seconds(busy[least])} ({busy[most] / busy[least]:.1f}x).",
            "Start the longest stages first and split the longest one, "
            "so every worker gets a similar share.",
            cost,
        )
    ]


def _gil_shared_s(stage: StageRecord, in_process: list[StageRecord]) -> float:
    """Seconds `stage` ran beside other in-process stages (all of them sharing one GIL)."""
    return sum(
        high - low
        for low, high, count in _segments(in_process, lambda _: 1)
        if count > 1 and stage.start_offset_s <= low and high <= _end(stage)
    )


def strategy_mismatch(run: _Run) -> list[Bottleneck]:
    """CPU-bound callables on threads (use processes); waiting stages in processes (threads)."""
    in_process = [s for s in run.stages if s.executor in {"thread", "inline"}]
    findings = [
        _finding(
            "strategy_mismatch",
            s.name,
            f"{s.name} is a Python callable that kept {s.cpu_percent:.0f}% of a core busy "
            f"on a {s.executor} worker, holding the GIL that other in-process stages need.",
            "Run it in its own process: --strategy process or hybrid, "
            'with kind = "cpu" on the stage.',
            _gil_shared_s(s, in_process),
        )
        for s in in_process
        # The engine shows a callable stage's command as "call package.module:function".
        if (s.command or "").startswith("call ") and s.cpu_percent > run.t.thread_cpu_percent
    ]
    waiting = [
        s.name
        for s in run.stages
        if s.executor == "process"
        and s.cpu_percent < run.t.waiting_cpu_percent
        and s.duration_s >= run.t.trivial_stage_s
    ]
    if waiting:
        findings.append(
            _finding(
                "strategy_mismatch",
                waiting[0] if len(waiting) == 1 else None,
                f"{', '.join(waiting)} ran in a process pool but kept a core busy under "
                f"{run.t.waiting_cpu_percent:.0f}% of the time: they mostly wait.",
                'Use threads for them (--strategy thread, or kind = "io" with hybrid): '
                "a process each costs memory and start-up for no CPU gain.",
            )
        )
    return findings


def pool_underused(run: _Run) -> list[Bottleneck]:
    """Worker utilization under `underused_percent`: the pool is larger than the work."""
    used, workers = run.record.pool.worker_utilization_percent, run.record.workers
    if workers < 2 or not 0 < used < run.t.underused_percent:
        return []
    enough = max(1, math.ceil(workers * used / 100))
    return [
        _finding(
            "pool_underused",
            None,
            f"the {workers} workers were busy {used:.0f}% of the time.",
            f"Use fewer workers (--workers {enough}): idle workers cost memory and "
            "start-up without shortening the run.",
        )
    ]


def pool_oversubscribed(run: _Run) -> list[Bottleneck]:
    """Summed CPU demand over the usable cores for longer than `oversubscribed_min_s`."""
    cores = run.record.pool.usable_cpus or run.record.host.cpus
    if cores <= 0:
        return []
    over = [
        (high - low, demand)
        for low, high, demand in _segments(run.stages, lambda s: s.cpu_percent / 100)
        if demand > cores
    ]
    over_s = sum(span for span, _ in over)
    if over_s < run.t.oversubscribed_min_s:
        return []
    # While demand exceeds the cores, each stage gets cores/demand of what it asked for.
    lost = sum(span * (1 - cores / demand) for span, demand in over)
    return [
        _finding(
            "pool_oversubscribed",
            None,
            f"stages running together wanted up to {max(d for _, d in over):.1f} cores "
            f"of the {cores:g} usable, for {seconds(over_s)}.",
            'Run fewer CPU-bound stages at once: fewer workers, or kind = "cpu" on them '
            "so adaptive admission spaces them out.",
            lost,
        )
    ]


def memory_pressure(run: _Run) -> list[Bottleneck]:
    """Peak RSS (of a stage, or of stages running together) near the available memory."""
    limit = run.memory_bytes
    if limit <= 0:
        return []
    findings = [
        _finding(
            "memory_pressure",
            s.name,
            f"{s.name} peaked at {size(s.peak_rss_bytes)} of {size(limit)} available.",
            "Give it a max_rss_mb target and run it alone (serial = true) or beside fewer "
            "workers: near the limit the kernel swaps or kills stages.",
        )
        for s in run.stages
        if s.peak_rss_bytes >= run.t.memory_ratio * limit
    ]
    spans = _segments(run.stages, lambda s: s.peak_rss_bytes)
    together = max((total for _, _, total in spans), default=0.0)
    if not findings and together >= run.t.memory_ratio * limit:
        findings.append(
            _finding(
                "memory_pressure",
                None,
                f"stages running together peaked at up to {size(together)} of "
                f"{size(limit)} available.",
                "Use fewer workers, or serial = true on the largest stages.",
            )
        )
    return findings


def _waited_for(stage: StageRecord, ran: dict[str, StageRecord]) -> list[StageRecord]:
    """What had to end before `stage` could start: its needs, and its worker's earlier stages."""
    needs = [ran[n] for n in stage.needs if n in ran]
    earlier = [
        s
        for s in ran.values()
        if stage.worker is not None and s.worker == stage.worker and s.name != stage.name
        if _end(s) <= stage.start_offset_s + 1e-6
    ]
    return needs + earlier


def critical_path(record: RunRecord) -> tuple[str, ...]:
    """The chain that set the wall time: the pool's, else rebuilt from needs and workers."""
    if record.pool.critical_path:
        return record.pool.critical_path
    ran = {s.name: s for s in record.stages if s.duration_s > 0}
    chain: list[str] = []
    before = list(ran.values())
    while before:
        last = max(before, key=_end)
        chain.append(last.name)
        before = [s for s in _waited_for(last, ran) if s.name not in chain]
    return tuple(reversed(chain))


def _lower_bound(run: _Run, halved: str) -> float:
    """The shortest the run could be: its longest `needs` chain, or its work over the workers."""
    took = {s.name: s.duration_s / (2 if s.name == halved else 1) for s in run.stages}
    needs = {s.name: [n for n in s.needs if n in took] for s in run.stages}
    finish: dict[str, float] = {}
    for name in graphlib.TopologicalSorter(needs).static_order():
        finish[name] = max((finish[n] for n in needs[name]), default=0.0) + took[name]
    return max(max(finish.values(), default=0.0), sum(took.values()) / run.record.workers)


def critical_path_finding(run: _Run) -> list[Bottleneck]:
    """The chain that set the wall time, and the run's length were the slowest stage halved."""
    wall, path = wall_time_s(run.record), critical_path(run.record)
    if not run.stages or wall <= 0 or not path or run.record.workers < 1:
        return []
    slowest = max(run.stages, key=lambda s: s.duration_s)
    try:
        saving = _lower_bound(run, "") - _lower_bound(run, slowest.name)
    except graphlib.CycleError:
        return []
    on_path = slowest.name in path
    return [
        _finding(
            "critical_path",
            slowest.name,
            f"the critical path {' → '.join(path)} set the wall time of {seconds(wall)}; "
            f"halving the slowest stage, {slowest.name} ({seconds(slowest.duration_s)}, "
            f"{'on' if on_path else 'off'} the path), would take the run to about "
            f"{seconds(max(0.0, wall - saving))}.",
            "Speed up the stages on the critical path first"
            f"{f', starting with {slowest.name}' if on_path else ''}: "
            "time saved elsewhere does not shorten the run.",
            saving,
        )
    ]


# Findings that cost the same (zero, for advice about resources) keep this order.
RULES: tuple[Callable[[_Run], list[Bottleneck]], ...] = (
    critical_path_finding,
    slow_stages,
    uneven_stages,
    uneven_workers,
    pool_oversubscribed,
    strategy_mismatch,
    memory_pressure,
    pool_underused,
)


def find_bottlenecks(
    record: RunRecord,
    thresholds: BottleneckThresholds = BottleneckThresholds(),
    available_memory_bytes: int | None = None,
) -> tuple[Bottleneck, ...]:
    """Every rule's findings, ranked by the seconds they cost (most first)."""
    ran = tuple(
        s for s in record.stages if s.status is not StageStatus.SKIPPED and s.duration_s > 0
    )
    memory = available_memory_bytes or record.host.memory_bytes
    run = _Run(record=record, stages=ran, t=thresholds, memory_bytes=memory)
    found = [(-f.cost_s, order, f) for order, rule in enumerate(RULES) for f in rule(run)]
    ranked = [f for *_, f in sorted(found, key=lambda item: item[:2])]
    return tuple(replace(f, cost_s=round(max(0.0, f.cost_s), 3)) for f in ranked)


def attach_bottlenecks(
    record: RunRecord,
    thresholds: BottleneckThresholds = BottleneckThresholds(),
    available_memory_bytes: int | None = None,
) -> RunRecord:
    """The record with its `bottlenecks` filled, for the run command's convenience."""
    found = find_bottlenecks(record, thresholds, available_memory_bytes)
    return replace(record, bottlenecks=found)
