"""Pool-level figures computed from the stage records of a run (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from orchestrator.model.status import StageStatus

if TYPE_CHECKING:
    from orchestrator.model.records import PoolRecord, StageRecord

_NOT_RUN = (StageStatus.SKIPPED,)


def pool_metrics(  # noqa: PLR0913 - keyword-only figures of one pool run, all required
    stages: Sequence[StageRecord],
    *,
    workers: int,
    started_at: float,
    finished_at: float,
    sizing_reason: str,
    usable_cpus: float,
    monitor_cpu_seconds: float = 0.0,
    resources: Mapping[str, int] | None = None,
) -> PoolRecord:
    """Throughput, utilisation, average and longest stage time (seconds).

    `critical_path` stays empty: the replay of the finished run decides it
    (`sla.bottlenecks.attach_bottlenecks`), one algorithm for the path and the savings.
    """
    # The record models load after the stages have started, never on the way to them.
    from orchestrator.model.records import PoolRecord  # noqa: PLC0415 - see the comment above

    ran = [s for s in stages if s.status not in _NOT_RUN and s.attempts > 0]
    total = max(finished_at - started_at, 0.0)
    busy = sum(s.duration_s for s in ran)
    utilization = 100.0 * busy / (workers * total) if total > 0 and workers > 0 else 0.0
    return PoolRecord(
        total_duration_s=round(total, 4),
        throughput_tasks_per_s=round(len(ran) / total, 4) if total > 0 else 0.0,
        worker_utilization_percent=round(min(utilization, 100.0), 1),
        avg_task_s=round(busy / len(ran), 4) if ran else 0.0,
        max_task_s=round(max((s.duration_s for s in ran), default=0.0), 4),
        completed=sum(1 for s in stages if s.status is StageStatus.PASSED),
        total=len(stages),
        sizing_reason=sizing_reason,
        usable_cpus=usable_cpus,
        monitor_cpu_seconds=round(monitor_cpu_seconds, 4),
        resources=dict(resources or {}),  # the limits the pool honoured: name -> stages at once
    )
