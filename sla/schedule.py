"""Findings about the schedule: each names one change, and its saving is the replay's.

Every rule here proposes one change to the run (a `WhatIf`: a stage at half its time, a
stage started without its needs, one more core, one more worker) and quotes the
replay's saving for exactly that change, rounded down; CPU lost to the stages beside a
stage (`starved`) is advice without one, as the replay does not model contention. The
figures in its sentences come from the record (`sla.chain`): when a stage was ready,
when it started, how its chain was linked. `change_for` maps a finding back to its
change, so anyone can recompute a saving from run.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from orchestrator.model.findingkinds import FindingKind
from orchestrator.model.partlabel import label_total
from orchestrator.model.records import Bottleneck, StageRecord, wall_time_s
from orchestrator.model.runs import Runs
from orchestrator.model.units import seconds
from orchestrator.model.whatif import Link, Placement, Replayed, WhatIf
from sla.chain import chain_words, ready_s, waited_s
from sla.findings import Run, contention, evidence, finding

HALF = 0.5
SHOWN = 3  # stages named in a list before "and N more"


def floored(saving: float) -> float:
    """A saving as a finding quotes it: rounded down to 0.01 s, never more than computed."""
    return math.floor(saving * 100 + 1e-9) / 100


def timed(
    kind: FindingKind, stage: str | None, texts: tuple[str, str], saving: float
) -> Bottleneck:
    """A finding whose saving (seconds) the replay computed for its change."""
    detail, advice = texts
    return Bottleneck(
        kind=kind, stage=stage, detail=detail, recommendation=advice, saving_s=floored(saving)
    )


def change_for(run: Run, finding: Bottleneck) -> WhatIf | None:
    """The change a time finding's saving is the replay's answer to (None: advice)."""
    if finding.kind in (FindingKind.CRITICAL_PATH, FindingKind.QUEUE):
        return WhatIf(stage=finding.stage, factor=HALF)
    if finding.kind == FindingKind.NEED_WAIT:
        return WhatIf(stage=finding.stage, drop_needs=True)
    if finding.kind == FindingKind.CORE_WAIT:
        return WhatIf(more_cores=1.0)
    if finding.kind == FindingKind.WORKER_WAIT:
        return WhatIf(more_workers=1)
    return None


def _names(names: list[str]) -> str:
    if len(names) <= SHOWN:
        return ", ".join(names)
    return f"{', '.join(names[:SHOWN])} and {len(names) - SHOWN} more"


def _ways(stage: StageRecord) -> str:
    """How to make a stage faster, by what actually ran (its parts here, or one process)."""
    name = stage.name
    if stage.parts:
        longest = max(stage.parts, key=lambda part: part.duration_s)
        total = str(label_total(longest.part))
        labels = ", ".join(part.part for part in stage.parts)
        here = (
            f"all {total} of its parts"
            if str(len(stage.parts)) == total
            else f"{len(stage.parts)} of its {total} parts ({labels})"
        )
        return (
            f"Make {name} faster: it ran {here} here, and the longest, part "
            f"{longest.part}, took {seconds(longest.duration_s)}: give it more parts, or "
            "run its slowest tests as a stage of their own."
        )
    if stage.runs is Runs.PYTEST:
        return (
            f"Make {name} faster: it ran as one pytest process; split it (split = N or "
            '"auto"), cache its inputs, or trim its work.'
        )
    return f"Make {name} faster: cache its inputs, trim its work, or divide it into stages."


def halving(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Each stage whose half would shorten the run: on the critical path, or holding a
    worker (or cores) that stages queued for, which the replay then moves up."""
    wall = wall_time_s(run.record)
    path = replay.critical_path
    found = []
    for stage in run.stages:
        change = WhatIf(stage=stage.name, factor=HALF)
        saving = floored(replay.saving(change))
        if saving <= 0:
            continue
        about = f"halving it would take the run to about {seconds(max(0.0, wall - saving))}"
        advice = _ways(stage)
        if stage.name in path:
            chain = f" ({chain_words(run.record, path)})" if len(path) > 1 else ""
            detail = (
                f"{stage.name} ran {seconds(stage.duration_s)} on the critical path{chain}"
                f"{evidence(run, stage)}; {about}."
            )
            found.append(timed(FindingKind.CRITICAL_PATH, stage.name, (detail, advice), saving))
            continue
        moved = _moved_up(replay.placements, replay.placements_if(change), stage.name)
        detail = (
            f"{stage.name} ran {seconds(stage.duration_s)} off the critical path, but "
            f"{moved}; {about}."
        )
        found.append(timed(FindingKind.QUEUE, stage.name, (detail, advice), saving))
    return found


def _moved_up(before: Mapping[str, Placement], after: Mapping[str, Placement], name: str) -> str:
    """What the replay does with `name` halved, e.g. "c queued behind it on the same
    worker: halved, it starts c sooner and moves d to the worker that frees first"."""
    mine = before[name]
    sooner = sorted(
        (
            other
            for other, was in before.items()
            if other != name and other in after and after[other].start_s < was.start_s - 1e-6
        ),
        key=lambda other: before[other].start_s,
    )
    behind = [
        other
        for other in sooner
        if before[other].slot == mine.slot and before[other].start_s >= mine.end_s - 1e-6
    ]
    moved = [other for other in sooner if after[other].slot != before[other].slot]
    rest = [other for other in sooner if other not in behind and other not in moved]
    what = []
    if behind or rest:
        what.append(f"starts {_names(behind + rest)} sooner")
    if moved:
        what.append(f"moves {_names(moved)} to the worker that frees first")
    done = " and ".join(what) or "ends the stages after it sooner"
    if behind:
        return f"{_names(behind)} queued behind it on the same worker: halved, it {done}"
    return f"stages waited for the worker or the cores it held: halved, it {done}"


def on_a_need(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Stages on the path that started only when a need ended: could they run beside it?"""
    found = []
    for name in replay.critical_path:
        placed, stage = replay.placements.get(name), run.record.stage(name)
        if placed is None or stage is None or placed.link is not Link.NEED or not placed.after:
            continue
        saving = replay.saving(WhatIf(stage=name, drop_needs=True))
        detail = (
            f"{name} started at {seconds(stage.start_offset_s)}, when {placed.after} "
            f"(its needs) ended at {seconds(ready_s(run.record, stage))}."
        )
        advice = (
            f"If {name} does not truly need {placed.after}, drop it from needs: "
            "the two would run side by side."
        )
        found.append(timed(FindingKind.NEED_WAIT, name, (detail, advice), saving))
    return found


def _queued_on_path(run: Run, replay: Replayed, links: tuple[Link, ...]) -> StageRecord | None:
    """The stage on the critical path that waited longest (by the record) with one of
    `links` in the replay: a wait that set the wall time."""
    waited = []
    for name in replay.critical_path:
        placed, stage = replay.placements.get(name), run.record.stage(name)
        if placed is not None and stage is not None and placed.link in links:
            waited.append(stage)
    return max(waited, key=lambda s: waited_s(run.record, s), default=None)


def core_wait(run: Run, replay: Replayed) -> list[Bottleneck]:
    """A stage on the path that waited for the core budget: what one more core saves."""
    stage = _queued_on_path(run, replay, (Link.CORE, Link.PART))
    if stage is None or waited_s(run.record, stage) <= 0:
        return []
    saving = replay.saving(WhatIf(more_cores=1.0))
    detail = (
        f"{stage.name} waited {seconds(waited_s(run.record, stage))} for a core: ready at "
        f"{seconds(ready_s(run.record, stage))}, started at "
        f"{seconds(stage.start_offset_s)}, and the run waited on it."
    )
    advice = (
        'Give the run another core (a larger runner), or mark stages that mostly wait kind = "io" '
        "so they do not count against the cores."
    )
    return [timed(FindingKind.CORE_WAIT, stage.name, (detail, advice), saving)]


def worker_wait(run: Run, replay: Replayed) -> list[Bottleneck]:
    """A stage on the path that waited for a worker, when the cores allow one more."""
    cores = run.record.pool.usable_cpus or run.record.host.cpus
    workers = run.record.workers
    stage = _queued_on_path(run, replay, (Link.WORKER,))
    if stage is None or waited_s(run.record, stage) <= 0 or workers + 1 > max(cores, 1):
        return []
    saving = replay.saving(WhatIf(more_workers=1))
    detail = (
        f"{stage.name} waited {seconds(waited_s(run.record, stage))} for one of the "
        f"{workers} workers: ready at {seconds(ready_s(run.record, stage))}, started at "
        f"{seconds(stage.start_offset_s)}, and the run waited on it."
    )
    advice = f"Use one more worker (--workers {workers + 1}): the cores allow it."
    return [timed(FindingKind.WORKER_WAIT, None, (detail, advice), saving)]


def starved(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Stages on the critical path that lost CPU to the stages beside them (their CPU use
    says so). Advice without a saving: the replay keeps each stage's recorded time, so it
    cannot say what the run would take with the cores shared otherwise."""
    found = []
    for stage in run.stages:
        lost, demand = contention(run, stage)
        if lost <= 0 or stage.name not in replay.critical_path:
            continue
        grown = lost / max(stage.duration_s - lost, 1e-9)
        detail = (
            f"{stage.name} took {grown:.0%} longer than it would alone: the stages beside "
            f"it wanted {demand:.1f} cores."
        )
        advice = (
            f'Mark the stages beside it kind = "io" if they mostly wait, or give {stage.name} '
            "the cores: fewer CPU-bound stages at once, or a larger runner."
        )
        found.append(finding(FindingKind.CPU_STARVED, stage.name, detail, advice))
    return found
