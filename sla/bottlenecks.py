"""Bottlenecks: one finding per stage and cause, each with the seconds acting on it saves.

The savings come from a replay of the run's schedule (the `Replayed` protocol; the engine
builds it with the pool's own admission policy): what the whole run would take if a
stage were half as long, started without its needs, had the cores it waited for, or the
pool had one more worker (the rules: `sla.schedule`). The seed's ratio rules (1.5x the
mean, 3x the shortest) are the evidence in a finding's detail, never a finding of their
own: a slow stage that nothing waits for saves nothing when it gets faster. Findings
under the floor are dropped, the rest are ranked by saving, and together they never
claim more than the wall time. A run whose timing says nothing about a working run's
(interrupted, cut short, or not reproduced by its replay) gets no speed finding at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from orchestrator.model.records import Bottleneck, RunRecord, StageStatus, wall_time_s
from orchestrator.model.whatif import Replayed
from sla.agreement import disagreement
from sla.findings import BottleneckThresholds, Run
from sla.resources import memory_pressure, pool_underused, strategy_mismatch
from sla.schedule import core_wait, halving, on_a_need, starved, worker_wait
from sla.slow_tests import slow_test_findings
from sla.timing import why_untimed

DEFAULTS = BottleneckThresholds()
__all__ = [
    "BottleneckThresholds",
    "attach_bottlenecks",
    "facts",
    "find_bottlenecks",
    "floor_s",
    "untimed_reason",
]


def floor_s(wall: float, t: BottleneckThresholds = DEFAULTS) -> float:
    """The least saving worth a finding: `floor_s`, or `floor_share` of a long run."""
    return max(t.floor_s, t.floor_share * wall)


TIMED: tuple[Callable[[Run, Replayed], list[Bottleneck]], ...] = (
    halving,
    on_a_need,
    core_wait,
    worker_wait,
    lambda run, replay: slow_test_findings(run.stages, replay),
)
ADVICE: tuple[Callable[[Run], list[Bottleneck]], ...] = (
    strategy_mismatch,
    memory_pressure,
)


def untimed_reason(record: RunRecord, replay: Replayed) -> str | None:
    """Why no speed finding is made on this run (a clause), or None: the run's timing
    says nothing about a working run's (`sla.timing`), or the replay is not the run."""
    return why_untimed(record) or disagreement(record, replay)


def facts(
    record: RunRecord,
    thresholds: BottleneckThresholds = DEFAULTS,
    available_memory_bytes: int | None = None,
) -> Run:
    """What every rule reads: the stages that took a worker's time in this run."""
    # A reused (cached) pass took no worker's time in this run: nothing to speed up.
    ran = tuple(
        s
        for s in record.stages
        # A cancelled stage's time says when the run stopped, not what the stage costs.
        if s.status not in (StageStatus.SKIPPED, StageStatus.CANCELLED)
        and s.duration_s > 0
        and not s.cache_hit
    )
    memory = available_memory_bytes or record.host.memory_bytes
    return Run(record=record, stages=ran, t=thresholds, memory_bytes=memory)


def find_bottlenecks(
    record: RunRecord,
    replay: Replayed,
    thresholds: BottleneckThresholds = DEFAULTS,
    available_memory_bytes: int | None = None,
) -> tuple[Bottleneck, ...]:
    """Findings that save time (ranked, above the floor), then advice (saving None).

    At most one finding per stage and kind; the savings together never exceed the wall
    time (a finding that would push them past it is left out, largest savings first).
    """
    run = facts(record, thresholds, available_memory_bytes)
    kept: list[Bottleneck] = []
    if untimed_reason(record, replay) is None:
        wall = wall_time_s(record)
        least = floor_s(wall, thresholds)
        timed = [f for rule in TIMED for f in rule(run, replay)]
        ranked = sorted(
            (f for f in timed if (f.saving_s or 0.0) >= least and (f.saving_s or 0.0) > 0),
            key=lambda f: -(f.saving_s or 0.0),
        )
        kept = within_wall(ranked, wall) + starved(run, replay) + pool_underused(run, replay)
    kept += [f for rule in ADVICE for f in rule(run)]
    return tuple(_unique(kept))


def within_wall(ranked: list[Bottleneck], wall: float) -> list[Bottleneck]:
    """The first finding of each (stage, kind) in `ranked` (largest saving first) whose
    saving still fits, with those kept before it, in `wall` seconds.

    Duplicates go first: a second finding about the same stage and kind must not use up
    the allowance a different finding would have had.
    """
    kept: list[Bottleneck] = []
    claimed = 0.0
    for f in _unique(ranked):
        if claimed + (f.saving_s or 0.0) <= wall + 1e-9:
            kept.append(f)
            claimed += f.saving_s or 0.0
    return kept


def _unique(findings: list[Bottleneck]) -> list[Bottleneck]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for f in findings:
        if (f.stage, f.kind) not in seen:
            seen.add((f.stage, f.kind))
            out.append(f)
    return out


def attach_bottlenecks(
    record: RunRecord,
    replay: Replayed,
    thresholds: BottleneckThresholds = DEFAULTS,
    available_memory_bytes: int | None = None,
) -> RunRecord:
    """The record with its findings and the replay's critical path (and its waiters);
    for a run whose timing says nothing (`untimed_reason`), no path and that reason."""
    found = find_bottlenecks(record, replay, thresholds, available_memory_bytes)
    untimed = untimed_reason(record, replay)
    if untimed is not None:
        pool = replace(record.pool, critical_path=(), waited=(), untimed=untimed)
    else:
        pool = replace(
            record.pool, critical_path=replay.critical_path, waited=replay.waiting, untimed=""
        )
    return replace(record, bottlenecks=found, pool=pool)
