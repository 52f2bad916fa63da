"""What every bottleneck rule reads and makes: thresholds, the run's facts, a finding.

Pure values and helpers over the frozen run record, shared by the rule modules
(`sla.bottlenecks` for where the time went, `sla.resources` for workers, CPU, memory),
and the seed's ratio rules as evidence (`evidence`) rather than findings of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from orchestrator.model.findingkinds import FindingKind
from orchestrator.model.records import Bottleneck, RunRecord, StageRecord
from orchestrator.model.units import seconds


@dataclass(frozen=True)
class BottleneckThresholds:
    """When a rule fires; the defaults are the seed's."""

    slow_stage_ratio: float = 1.5  # evidence: a stage over 1.5x the mean stage duration
    uneven_ratio: float = 3.0  # evidence: the longest over 3x the shortest
    trivial_stage_s: float = 1.0  # shorter stages are noise for the ratio rules
    thread_cpu_percent: float = 80.0  # a callable on a thread past this holds the GIL
    waiting_cpu_percent: float = 20.0  # a process-pool stage under this mostly waits
    underused_percent: float = 50.0  # pool utilization under this: fewer workers
    oversubscribed_min_s: float = 1.0  # CPU demand over the cores for longer than this
    memory_ratio: float = 0.9  # peak RSS at this share of available memory
    floor_s: float = 0.5  # a saving counts from half a second...
    floor_share: float = 0.01  # ...and 1% of the run: a second is noise in ten minutes


@dataclass(frozen=True)
class Run:
    """What every rule reads: the record, the stages that ran, the thresholds."""

    record: RunRecord
    stages: tuple[StageRecord, ...]
    t: BottleneckThresholds
    memory_bytes: int


def end(stage: StageRecord) -> float:
    """Seconds from the run's start to the stage's end."""
    return stage.start_offset_s + stage.duration_s


def segments(
    stages: Iterable[StageRecord], value: Callable[[StageRecord], float]
) -> list[tuple[float, float, float]]:
    """(start, end, summed value of the stages running) for each span between events."""
    stages = list(stages)
    events = sorted({t for s in stages for t in (s.start_offset_s, end(s))})
    return [
        (low, high, sum(value(s) for s in stages if s.start_offset_s <= low and end(s) >= high))
        for low, high in itertools.pairwise(events)
    ]


def finding(kind: FindingKind, stage: str | None, detail: str, advice: str) -> Bottleneck:
    """A finding that does not claim to shorten the run."""
    return Bottleneck(kind=kind, stage=stage, detail=detail, recommendation=advice)


def contention(run: Run, stage: StageRecord) -> tuple[float, float]:
    """(seconds `stage` lost to other CPU-bound stages, its worst core demand beside them).

    While the stages running together want more cores than there are, each gets
    cores/demand of what it asked for: `stage` took longer by the rest.
    """
    cores = run.record.pool.usable_cpus or run.record.host.cpus
    if cores <= 0 or stage.cpu_percent <= 0:
        return 0.0, 0.0
    over = [
        (high - low, demand)
        for low, high, demand in segments(run.stages, lambda s: s.cpu_percent / 100)
        if demand > cores and stage.start_offset_s <= low and high <= end(stage)
    ]
    if sum(span for span, _ in over) < run.t.oversubscribed_min_s:
        return 0.0, 0.0
    lost = sum(span * (1 - cores / demand) for span, demand in over)
    worst = max(demand for _, demand in over)
    return lost, worst


def evidence(run: Run, stage: StageRecord) -> str:
    """The seed's ratio rules about `stage`, as the sentence they support (or "")."""
    real = [s for s in run.stages if s.duration_s >= run.t.trivial_stage_s]
    if stage not in real or len(real) < 2:
        return ""
    mean = sum(s.duration_s for s in run.stages) / len(run.stages)
    shortest = min(real, key=lambda s: s.duration_s)
    said = []
    if stage.duration_s > run.t.slow_stage_ratio * mean:
        said.append(f"{stage.duration_s / mean:.1f}x the mean stage ({seconds(mean)})")
    if stage is not shortest and stage.duration_s > run.t.uneven_ratio * shortest.duration_s:
        ratio = stage.duration_s / shortest.duration_s
        said.append(f"{ratio:.1f}x the shortest, {shortest.name}")
    return f"; it is {' and '.join(said)}" if said else ""
