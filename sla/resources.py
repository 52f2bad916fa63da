"""Bottleneck rules about resources: the strategy for the work, the pool's size, memory.

Each rule is a pure function of the run's facts (`sla.findings.Run`) returning findings;
`sla.bottlenecks.RULES` runs them with the rules about time.
"""

from __future__ import annotations

import math

from orchestrator.model.records import Bottleneck, StageRecord
from orchestrator.model.units import seconds, size
from sla.findings import Run, end, finding, segments


def _gil_shared_s(stage: StageRecord, in_process: list[StageRecord]) -> float:
    """Seconds `stage` ran beside other in-process stages (all of them sharing one GIL)."""
    return sum(
        high - low
        for low, high, count in segments(in_process, lambda _: 1)
        if count > 1 and stage.start_offset_s <= low and high <= end(stage)
    )


def strategy_mismatch(run: Run) -> list[Bottleneck]:
    """CPU-bound callables on threads (use processes); waiting stages in processes (threads)."""
    in_process = [s for s in run.stages if s.executor in {"thread", "inline"}]
    findings = [
        finding(
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
            finding(
                "strategy_mismatch",
                waiting[0] if len(waiting) == 1 else None,
                f"{', '.join(waiting)} ran in a process pool but kept a core busy under "
                f"{run.t.waiting_cpu_percent:.0f}% of the time: they mostly wait.",
                'Use threads for them (--strategy thread, or kind = "io" with hybrid): '
                "a process each costs memory and start-up for no CPU gain.",
            )
        )
    return findings


def pool_underused(run: Run) -> list[Bottleneck]:
    """Worker utilization under `underused_percent`: the pool is larger than the work."""
    used, workers = run.record.pool.worker_utilization_percent, run.record.workers
    if workers < 2 or not 0 < used < run.t.underused_percent:
        return []
    enough = max(1, math.ceil(workers * used / 100))
    return [
        finding(
            "pool_underused",
            None,
            f"the {workers} workers were busy {used:.0f}% of the time.",
            f"Use fewer workers (--workers {enough}): idle workers cost memory and "
            "start-up without shortening the run.",
        )
    ]


def pool_oversubscribed(run: Run) -> list[Bottleneck]:
    """Summed CPU demand over the usable cores for longer than `oversubscribed_min_s`."""
    cores = run.record.pool.usable_cpus or run.record.host.cpus
    if cores <= 0:
        return []
    over = [
        (high - low, demand)
        for low, high, demand in segments(run.stages, lambda s: s.cpu_percent / 100)
        if demand > cores
    ]
    over_s = sum(span for span, _ in over)
    if over_s < run.t.oversubscribed_min_s:
        return []
    # While demand exceeds the cores, each stage gets cores/demand of what it asked for.
    lost = sum(span * (1 - cores / demand) for span, demand in over)
    return [
        finding(
            "pool_oversubscribed",
            None,
            f"stages running together wanted up to {max(d for _, d in over):.1f} cores "
            f"of the {cores:g} usable, for {seconds(over_s)}.",
            'Run fewer CPU-bound stages at once: fewer workers, or kind = "cpu" on them '
            "so adaptive admission spaces them out.",
            lost,
        )
    ]


def memory_pressure(run: Run) -> list[Bottleneck]:
    """Peak RSS (of a stage, or of stages running together) near the available memory."""
    limit = run.memory_bytes
    if limit <= 0:
        return []
    findings = [
        finding(
            "memory_pressure",
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
                "memory_pressure",
                None,
                f"stages running together peaked at up to {size(together)} of "
                f"{size(limit)} available.",
                "Use fewer workers, or serial = true on the largest stages.",
            )
        )
    return findings
