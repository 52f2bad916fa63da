"""Bottleneck rules about resources: the strategy for the work, idle workers, memory.

Their `saving_s` is None: acting on them makes a run safer or cheaper, and the replay
cannot say it makes it shorter. Each rule is a pure function of the run's facts
(`sla.findings.Run`) returning at most one finding per stage and kind;
`sla.bottlenecks.find_bottlenecks` lists them after the findings that save time.
"""

from __future__ import annotations

import math

from orchestrator.model.findingkinds import FindingKind
from orchestrator.model.records import Bottleneck
from orchestrator.model.runs import Runs
from orchestrator.model.units import size
from orchestrator.model.whatif import Replayed, WhatIf
from sla.findings import Run, finding, segments

SAME_WALL = 0.01  # share of the replayed wall time that counts as no longer


def strategy_mismatch(run: Run) -> list[Bottleneck]:
    """CPU-bound callables on threads (use processes); waiting stages in processes (threads).

    Only about a strategy the user chose: where workflow chose it (the lane's default),
    it placed each stage by its kind, and this advice would argue with that choice
    without the replay showing it costs time.
    """
    if "strategy" in run.record.pool.chosen_by_workflow:
        return []
    findings = [
        finding(
            FindingKind.STRATEGY_MISMATCH,
            s.name,
            f"{s.name} is a Python callable that kept {s.cpu_percent:.0f}% of a core busy "
            f"on a {s.executor} worker, holding the GIL that other in-process stages need.",
            "Run it in its own process: --strategy process or hybrid, "
            'with kind = "cpu" on the stage.',
        )
        for s in run.stages
        if s.executor in {"thread", "inline"}
        and s.runs is Runs.CALLABLE
        and s.cpu_percent > run.t.thread_cpu_percent
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
            finding(
                FindingKind.STRATEGY_MISMATCH,
                waiting[0] if len(waiting) == 1 else None,
                f"{', '.join(waiting)} ran in a process pool but kept a core busy under "
                f"{run.t.waiting_cpu_percent:.0f}% of the time: they mostly wait.",
                'Use threads for them (--strategy thread, or kind = "io" with hybrid): '
                "a process each costs memory and start-up for no CPU gain.",
            )
        )
    return findings


def pool_underused(run: Run, replay: Replayed) -> list[Bottleneck]:
    """Worker utilization under `underused_percent`: workers sat idle.

    The advice names the fewest workers with which the replayed run is no longer (within
    `SAME_WALL`): idle workers that the schedule needed (a stage queued for one) are not
    idle, whatever the utilization says. Only for a worker count the user chose.
    """
    used, workers = run.record.pool.worker_utilization_percent, run.record.workers
    if workers < 2 or not 0 < used < run.t.underused_percent:
        return []
    if "workers" in run.record.pool.chosen_by_workflow or run.record.shards:
        # Workflow sized the pool itself (or the run is several runners' merged): fewer
        # workers never make the replayed run shorter, so there is nothing to argue.
        return []
    if any(stage.parts for stage in run.record.stages):
        # A split stage's parts keep cores busy that its one worker slot does not show,
        # and `split = "auto"` cuts fewer parts for fewer workers: the replay cannot say.
        return []
    enough = next(
        (
            n
            for n in range(max(1, math.ceil(workers * used / 100)), workers)
            if replay.wall_if(WhatIf(more_workers=n - workers)) <= (1 + SAME_WALL) * replay.wall_s
        ),
        workers,
    )
    if enough >= workers:
        return []
    return [
        finding(
            FindingKind.WORKER_IDLE,
            None,
            f"the {workers} workers were busy {used:.0f}% of the time; replayed with "
            f"{enough}, the run takes as long.",
            f"Use fewer workers (--workers {enough}): idle workers cost memory and "
            "start-up without shortening the run.",
        )
    ]


def memory_pressure(run: Run) -> list[Bottleneck]:
    """Peak RSS (of a stage, or of stages running together) near the available memory."""
    limit = run.memory_bytes
    if limit <= 0:
        return []
    findings = [
        finding(
            FindingKind.MEMORY,
            s.name,
            f"{s.name} peaked at {size(s.peak_rss_bytes)} of {size(limit)} available.",
            "Give it a max_rss_mb target and run it alone (serial = true) or beside fewer "
            "workers: near the limit the kernel swaps or kills stages.",
        )
        for s in run.stages
        if s.peak_rss_bytes >= run.t.memory_ratio * limit
    ]
    spans = segments(run.stages, lambda s: s.peak_rss_bytes)
    together = max((total for _, _, total in spans), default=0.0)
    if not findings and together >= run.t.memory_ratio * limit:
        findings.append(
            finding(
                FindingKind.MEMORY,
                None,
                f"stages running together peaked at up to {size(together)} of "
                f"{size(limit)} available.",
                "Use fewer workers, or serial = true on the largest stages.",
            )
        )
    return findings
