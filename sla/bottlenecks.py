"""Bottlenecks: one finding per stage and cause, each with the seconds acting on it saves.

The savings come from a replay of the run's schedule (the `Replayed` protocol; the engine
builds it with the pool's own admission policy): what the whole run would take if a
stage were half as long, started without its needs, had the cores it waited for, or the
pool had one more worker. The seed's ratio rules (1.5x the mean, 3x the shortest) are the
evidence in a finding's detail, never a finding of their own: a slow stage off the
critical path saves nothing when it gets faster. Findings under the floor are dropped,
the rest are ranked by saving, and together they never claim more than the wall time.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import replace

from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.records import Bottleneck, RunRecord, StageStatus, wall_time_s
from orchestrator.model.units import count, seconds
from orchestrator.model.whatif import Replayed, WhatIf
from sla.findings import BottleneckThresholds, Run, contention, evidence
from sla.resources import memory_pressure, pool_underused, strategy_mismatch
from sla.slow_tests import slow_test_findings

DEFAULTS = BottleneckThresholds()
__all__ = ["BottleneckThresholds", "attach_bottlenecks", "find_bottlenecks", "floor_s"]


def floor_s(wall: float, t: BottleneckThresholds = DEFAULTS) -> float:
    """The least saving worth a finding: `floor_s`, or `floor_share` of a long run."""
    return max(t.floor_s, t.floor_share * wall)


def _timed(kind: str, stage: str | None, texts: tuple[str, str], saving: float) -> Bottleneck:
    detail, advice = texts
    return Bottleneck(
        kind=kind, stage=stage, detail=detail, recommendation=advice, saving_s=round(saving, 2)
    )


def on_the_path(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Each stage on the critical path, with what halving it saves."""
    path = replay.critical_path
    by_name = {s.name: s for s in run.stages}
    found = []
    for name in path:
        stage = by_name.get(name)
        if stage is None:
            continue
        saving = replay.saving(WhatIf(stage=name, factor=0.5))
        chain = f" ({' → '.join(path)})" if len(path) > 1 else ""
        detail = (
            f"{name} ran {seconds(stage.duration_s)} on the critical path{chain}"
            f"{evidence(run, stage)}; halving it would take the run to about "
            f"{seconds(max(0.0, wall_time_s(run.record) - saving))}."
        )
        ways = 'split it (split = N or "auto"), cache its inputs, or trim its work'
        if not is_pytest(tuple(shlex.split(stage.command or ""))):
            ways = "cache its inputs, trim its work, or divide it into stages"
        advice = (
            f"Make {name} faster: {ways}. Time saved off the critical path does not "
            "shorten the run."
        )
        if stage.parts:
            longest = max(stage.parts, key=lambda part: part.duration_s)
            total = longest.part.rpartition("/")[2]
            advice = (
                f"{name} runs as {len(stage.parts)} of {total} parts here; its longest, "
                f"part {longest.part}, took {seconds(longest.duration_s)}: give it more "
                "parts, or run its slowest tests as a stage of their own."
            )
        found.append(_timed("critical_path", name, (detail, advice), saving))
    return found


def on_a_need(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Stages on the path that started only when a need ended: could they run beside it?"""
    found = []
    for name in replay.critical_path:
        placed = replay.placements.get(name)
        if placed is None or not placed.after_need or placed.after is None:
            continue
        saving = replay.saving(WhatIf(stage=name, drop_needs=True))
        detail = (
            f"{name} waited {seconds(placed.ready_s)} for {placed.after} (its needs) "
            "before it could start."
        )
        advice = (
            f"If {name} does not truly need {placed.after}, drop it from needs: "
            "the two would run side by side."
        )
        found.append(_timed("need_wait", name, (detail, advice), saving))
    return found


def starved(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Stages that waited for a core, or lost CPU to the stages beside them."""
    core_waits = {n: p.waited_core_s for n, p in replay.placements.items() if p.waited_core_s}
    # More cores is one change to the pool: the stage that waited longest carries it.
    longest = max(core_waits, key=core_waits.__getitem__, default=None)
    found = []
    for stage in run.stages:
        waited = core_waits[stage.name] if stage.name == longest else 0.0
        lost, demand = contention(run, stage)
        if waited <= 0 and lost <= 0:
            continue
        grown = lost / max(stage.duration_s - lost, 1e-9)
        saving = max(
            replay.saving(WhatIf(more_cores=1.0)) if waited > 0 else 0.0,
            replay.saving(WhatIf(stage=stage.name, factor=1 - lost / stage.duration_s))
            if lost > 0
            else 0.0,
        )
        said = [f"waited {seconds(waited)} for a core"] if waited > 0 else []
        if lost > 0:
            said.append(
                f"took {grown:.0%} longer than it would alone: the stages beside it "
                f"wanted {demand:.1f} cores"
            )
        detail = f"{stage.name} {' and '.join(said)}."
        advice = (
            f'Mark the stages beside it kind = "io" if they mostly wait, or give {stage.name} '
            "the cores: fewer CPU-bound stages at once, or a larger runner."
        )
        found.append(_timed("cpu_starved", stage.name, (detail, advice), saving))
    return found


def worker_wait(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Stages that waited for a worker, when the cores would allow one more."""
    cores = run.record.pool.usable_cpus or run.record.host.cpus
    workers = run.record.workers
    waits = {n: p.waited_worker_s for n, p in replay.placements.items() if p.waited_worker_s > 0}
    if not waits or workers + 1 > max(cores, 1):
        return []
    longest = max(waits, key=waits.__getitem__)
    saving = replay.saving(WhatIf(more_workers=1))
    detail = (
        f"{longest} waited {seconds(waits[longest])} for a worker while "
        f"{count(len(waits), 'stage')} queued for the {workers}."
    )
    advice = f"Use one more worker (--workers {workers + 1}): the cores allow it."
    return [_timed("worker_wait", None, (detail, advice), saving)]


TIMED: tuple[Callable[[Run, Replayed], list[Bottleneck]], ...] = (
    on_the_path,
    on_a_need,
    starved,
    worker_wait,
    lambda run, replay: slow_test_findings(run.stages, replay),
)
ADVICE: tuple[Callable[[Run], list[Bottleneck]], ...] = (
    strategy_mismatch,
    memory_pressure,
)


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
    run = Run(record=record, stages=ran, t=thresholds, memory_bytes=memory)
    wall = wall_time_s(record)
    least = floor_s(wall, thresholds)
    timed = [f for rule in TIMED for f in rule(run, replay)]
    ranked = sorted(
        (f for f in timed if (f.saving_s or 0.0) >= least and (f.saving_s or 0.0) > 0),
        key=lambda f: -(f.saving_s or 0.0),
    )
    kept = within_wall(ranked, wall)
    kept += [f for rule in ADVICE for f in rule(run)] + pool_underused(run, replay)
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
    """The record with its findings and the replay's critical path (and its waiters)."""
    found = find_bottlenecks(record, replay, thresholds, available_memory_bytes)
    pool = replace(record.pool, critical_path=replay.critical_path, waited=replay.waiting)
    return replace(record, bottlenecks=found, pool=pool)
