"""What every bottleneck rule reads and makes: thresholds, the run's facts, a finding.

Pure values and helpers over the frozen run record, shared by the rule modules
(`sla.bottlenecks` for where the time went, `sla.resources` for workers, CPU, memory).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from orchestrator.model.records import Bottleneck, RunRecord, StageRecord


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
class Run:
    """What every rule reads: the record, the stages that ran, the thresholds."""

    record: RunRecord
    stages: tuple[StageRecord, ...]
    t: BottleneckThresholds
    memory_bytes: int


def end(stage: StageRecord) -> float:
    return stage.start_offset_s + stage.duration_s


def finding(
    kind: str, stage: str | None, detail: str, advice: str, cost: float = 0.0
) -> Bottleneck:
    return Bottleneck(kind=kind, stage=stage, detail=detail, recommendation=advice, cost_s=cost)


def segments(
    stages: Iterable[StageRecord], value: Callable[[StageRecord], float]
) -> list[tuple[float, float, float]]:
    """(start, end, summed value of the stages running) for each span between events."""
    events = sorted({t for s in stages for t in (s.start_offset_s, end(s))})
    return [
        (low, high, sum(value(s) for s in stages if s.start_offset_s <= low and end(s) >= high))
        for low, high in itertools.pairwise(events)
    ]
