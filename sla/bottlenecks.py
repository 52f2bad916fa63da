"""Bottleneck rules: where a run's time went, each finding with a plain recommendation.

The rules about time live here (slow and uneven stages, uneven workers, the critical
path); those about resources in `sla.resources`; what they share in `sla.findings`.

Pure functions over the frozen run record (the seed's "bottleneck detection", made
specific). Each finding carries `cost_s`, the wall-clock seconds it is estimated to cost,
and `find_bottlenecks` ranks by it; advice about resources (idle workers, memory) costs 0.
"""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from orchestrator.model.critical import critical_path as chain_of
from orchestrator.model.records import Bottleneck, RunRecord, StageStatus, wall_time_s
from orchestrator.model.units import seconds
from sla.findings import BottleneckThresholds, Run, finding
from sla.resources import memory_pressure, pool_oversubscribed, pool_underused, strategy_mismatch

DEFAULT_THRESHOLDS = BottleneckThresholds()


def slow_stages(run: Run) -> list[Bottleneck]:
    """Stages over `slow_stage_ratio` times the mean duration of the run's stages."""
    if len(run.stages) < 2:
        return []
    mean = sum(s.duration_s for s in run.stages) / len(run.stages)
    return [
        finding(
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


def uneven_stages(run: Run) -> list[Bottleneck]:
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
        finding(
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


def uneven_workers(run: Run) -> list[Bottleneck]:
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
        finding(
            "uneven_distribution",
            None,
            f"worker {most} was busy {seconds(busy[most])}, worker {least} "
            f"only {seconds(busy[least])} ({busy[most] / busy[least]:.1f}x).",
            "Start the longest stages first and split the longest one, "
            "so every worker gets a similar share.",
            cost,
        )
    ]


def critical_path(record: RunRecord) -> tuple[str, ...]:
    """The chain that set the wall time: the pool's, else rebuilt from the stages that ran."""
    if record.pool.critical_path:
        return record.pool.critical_path
    return chain_of([s for s in record.stages if s.duration_s > 0])


def _lower_bound(run: Run, halved: str) -> float:
    """The shortest the run could be: its longest `needs` chain, or its work over the workers."""
    took = {s.name: s.duration_s / (2 if s.name == halved else 1) for s in run.stages}
    needs = {s.name: [n for n in s.needs if n in took] for s in run.stages}
    finish: dict[str, float] = {}
    for name in graphlib.TopologicalSorter(needs).static_order():
        finish[name] = max((finish[n] for n in needs[name]), default=0.0) + took[name]
    return max(max(finish.values(), default=0.0), sum(took.values()) / run.record.workers)


def critical_path_finding(run: Run) -> list[Bottleneck]:
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
        finding(
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
RULES: tuple[Callable[[Run], list[Bottleneck]], ...] = (
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
    thresholds: BottleneckThresholds = DEFAULT_THRESHOLDS,
    available_memory_bytes: int | None = None,
) -> tuple[Bottleneck, ...]:
    """Every rule's findings, ranked by the seconds they cost (most first)."""
    # A reused (cached) pass took no worker's time in this run: nothing to speed up.
    ran = tuple(
        s
        for s in record.stages
        if s.status is not StageStatus.SKIPPED and s.duration_s > 0 and not s.cache_hit
    )
    memory = available_memory_bytes or record.host.memory_bytes
    run = Run(record=record, stages=ran, t=thresholds, memory_bytes=memory)
    found = [(-f.cost_s, order, f) for order, rule in enumerate(RULES) for f in rule(run)]
    ranked = [f for *_, f in sorted(found, key=lambda item: item[:2])]
    return tuple(replace(f, cost_s=round(max(0.0, f.cost_s), 3)) for f in ranked)


def attach_bottlenecks(
    record: RunRecord,
    thresholds: BottleneckThresholds = DEFAULT_THRESHOLDS,
    available_memory_bytes: int | None = None,
) -> RunRecord:
    """The record with its `bottlenecks` filled, for the run command's convenience."""
    found = find_bottlenecks(record, thresholds, available_memory_bytes)
    return replace(record, bottlenecks=found)


__all__ = [
    "RULES",
    "BottleneckThresholds",
    "attach_bottlenecks",
    "critical_path",
    "find_bottlenecks",
]
