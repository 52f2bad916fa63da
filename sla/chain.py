"""The critical path in words, and the waits a finding quotes, read from the record alone.

A finding or the headline may only say what `run.json` shows: when a stage was ready
(its needs' recorded ends), when it started, how long the chain that set the wall time
took, and why each stage of that chain followed the one before it. A stage that needs
the one before it follows it as a dependency ("lint → unit"); any other link is a queue
for the pool's room, and is worded as one ("then security on the same worker", "then
lint on the core unit freed"), never as a dependency.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from orchestrator.model.records import RunRecord, StageRecord, wall_time_s

EPSILON_S = 1e-6


def end_s(stage: StageRecord) -> float:
    """Seconds from the run's start to the stage's recorded end."""
    return stage.start_offset_s + stage.duration_s


def ready_s(record: RunRecord, stage: StageRecord) -> float:
    """When the stage could have started, by the record: its last need's end, else 0."""
    needs = [record.stage(name) for name in stage.needs]
    return max((end_s(need) for need in needs if need is not None and need.attempts), default=0.0)


def waited_s(record: RunRecord, stage: StageRecord) -> float:
    """Seconds between the stage being ready and starting, by the record."""
    return max(0.0, stage.start_offset_s - ready_s(record, stage))


def path_span_s(record: RunRecord, path: Sequence[str]) -> float:
    """The recorded span of the chain: from its first stage's start to its last's end,
    never more than the run's wall time."""
    stages = [s for s in (record.stage(name) for name in path) if s is not None]
    if not stages:
        return 0.0
    span = max(end_s(s) for s in stages) - min(s.start_offset_s for s in stages)
    return max(0.0, min(span, wall_time_s(record)))


def link(record: RunRecord, earlier: str, later: str) -> str:
    """How `later` came to start after `earlier`: "" for a need, else the queue's words.

    By the record: when every worker was busy just before `later` started (or the pool
    budgets no cores), it waited for a worker; otherwise for room on the cores (the
    adaptive budget), for a shared resource, or for a serial stage to end.
    """
    first, then = record.stage(earlier), record.stage(later)
    if first is None or then is None or earlier in then.needs:
        return ""
    if first.serial or then.serial:
        return "on its own (a serial stage)" if then.serial else f"once {earlier} (serial) ended"
    return _queue(record, first, then)


def _queue(record: RunRecord, first: StageRecord, then: StageRecord) -> str:
    """What `then` queued for until `first` ended: a worker, a resource, or cores."""
    shared = sorted(set(first.uses) & set(then.uses))
    if _beside(record, then, first) >= max(1, record.workers) - 1:
        return "on the same worker"
    if shared:
        return f"once {first.name} released {', '.join(shared)}"
    if record.strategy != "adaptive":  # only the adaptive pool budgets cores
        return "on the same worker"
    if first.parts and then.start_offset_s < end_s(first) - EPSILON_S:
        return f"on a core a part of {first.name} gave back"
    return f"on the core {first.name} freed"


def _beside(record: RunRecord, stage: StageRecord, freed_by: StageRecord) -> int:
    """Other stages running when `stage` started, besides the one whose end let it in."""
    at = stage.start_offset_s
    return sum(
        1
        for other in record.stages
        if other is not stage
        and other is not freed_by
        and other.attempts
        and other.start_offset_s <= at
        and end_s(other) > at
    )


def chain_words(record: RunRecord, path: Sequence[str]) -> str:
    """E.g. "lint → unit, then security on the same worker": "→" only for a need."""
    if not path:
        return ""
    words, queued = path[0], False
    for earlier, later in itertools.pairwise(path):
        how = link(record, earlier, later)
        if how:
            words += f", then {later} {how}"
        elif queued:
            words += f", then {later} (it needs {earlier})"
        else:
            words += f" → {later}"
        queued = bool(how)
    return words
