"""SLA verdicts: each stage's duration (and memory) against its target, and the run's budget.

Pure functions over the frozen run record. `apply_sla` never touches exit codes: the run
command decides exit 3 from `SlaRecord.critical_violation` (DESIGN.md, "Exit codes").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from orchestrator.model.records import (
    RunRecord,
    SlaRecord,
    SlaStatus,
    StageRecord,
    StageSla,
    StageStatus,
    wall_time_s,
)
from orchestrator.model.units import seconds, size
from sla.targets import SlaPolicy

# Order of badness; a longer duration may only move a stage rightwards.
SEVERITY: dict[SlaStatus, int] = {
    SlaStatus.NONE: 0,
    SlaStatus.OK: 1,
    SlaStatus.WARNING: 2,
    SlaStatus.BREACH: 3,
    SlaStatus.CRITICAL: 4,
}
NOT_JUDGED = frozenset({StageStatus.SKIPPED, StageStatus.CANCELLED})
VIOLATING = frozenset({SlaStatus.BREACH, SlaStatus.CRITICAL})


def against_target(
    value: float, target: float | None, *, ratio: float, critical: bool
) -> SlaStatus:
    """ok under ratio x target, warning up to the target, breach (or critical) over it."""
    if target is None:
        return SlaStatus.NONE
    if value > target:
        return SlaStatus.CRITICAL if critical else SlaStatus.BREACH
    return SlaStatus.WARNING if value >= ratio * target else SlaStatus.OK


def judge_stage(stage: StageRecord, policy: SlaPolicy) -> StageSla:
    """The stage's verdict; a timeout is over its target whatever the clock said."""
    target = policy.target_for(stage.name)
    rss_target = policy.rss_target_for(stage.name)
    if stage.status in NOT_JUDGED:
        return StageSla(target_s=target, max_rss_bytes=rss_target)
    critical = policy.is_critical(stage.name)
    ratio = policy.warning_ratio
    status = against_target(stage.duration_s, target, ratio=ratio, critical=critical)
    if stage.status is StageStatus.TIMEOUT and target is not None:
        status = SlaStatus.CRITICAL if critical else SlaStatus.BREACH
    return StageSla(
        target_s=target,
        status=status,
        max_rss_bytes=rss_target,
        rss_status=against_target(stage.peak_rss_bytes, rss_target, ratio=ratio, critical=critical),
    )


def stage_messages(stage: StageRecord) -> tuple[list[str], list[str]]:
    """One line per violation and per warning of a judged stage."""
    violations: list[str] = []
    warnings: list[str] = []
    sla = stage.sla
    critical = " (critical)" if SlaStatus.CRITICAL in (sla.status, sla.rss_status) else ""
    if sla.target_s is not None and sla.status in VIOLATING:
        took = "timed out after" if stage.status is StageStatus.TIMEOUT else "took"
        over = "over" if stage.duration_s > sla.target_s else "which counts as over"
        violations.append(
            f"{stage.name}: {took} {seconds(stage.duration_s)}, {over} its "
            f"{sla.target_s:g}s target{critical}"
        )
    elif sla.target_s is not None and sla.status is SlaStatus.WARNING:
        share = 100 * stage.duration_s / sla.target_s
        warnings.append(
            f"{stage.name}: took {seconds(stage.duration_s)}, {share:.0f}% of its "
            f"{sla.target_s:g}s target"
        )
    if sla.max_rss_bytes is not None and sla.rss_status in VIOLATING:
        violations.append(
            f"{stage.name}: peak memory {size(stage.peak_rss_bytes)}, over its "
            f"{size(sla.max_rss_bytes)} target{critical}"
        )
    elif sla.max_rss_bytes is not None and sla.rss_status is SlaStatus.WARNING:
        warnings.append(
            f"{stage.name}: peak memory {size(stage.peak_rss_bytes)}, near its "
            f"{size(sla.max_rss_bytes)} target"
        )
    return violations, warnings


@dataclass(frozen=True)
class Verdict:
    """Judged stages (with `sla` filled) and the run-level verdict."""

    stages: tuple[StageRecord, ...]
    sla: SlaRecord


def judge(stages: Iterable[StageRecord], policy: SlaPolicy, wall_s: float | None) -> Verdict:
    """Judge every stage and, when the wall time is known, the lane's budget."""
    judged = tuple(replace(s, sla=judge_stage(s, policy)) for s in stages)
    violations: list[str] = []
    warnings: list[str] = []
    for stage in judged:
        stage_violations, stage_warnings = stage_messages(stage)
        violations += stage_violations
        warnings += stage_warnings
    budget = policy.budget_s
    budget_status = SlaStatus.NONE
    if wall_s is not None and budget is not None:
        budget_status = against_target(wall_s, budget, ratio=policy.warning_ratio, critical=False)
        if budget_status is SlaStatus.BREACH:
            violations.append(f"run: took {seconds(wall_s)}, over the lane budget of {budget:g}s")
        elif budget_status is SlaStatus.WARNING:
            warnings.append(
                f"run: took {seconds(wall_s)}, {100 * wall_s / budget:.0f}% of the lane "
                f"budget of {budget:g}s"
            )
    critical = any(SlaStatus.CRITICAL in (s.sla.status, s.sla.rss_status) for s in judged)
    record = SlaRecord(
        warning_ratio=policy.warning_ratio,
        budget_s=budget,
        budget_status=budget_status,
        critical_violation=critical,
        violations=tuple(violations),
        warnings=tuple(warnings),
    )
    return Verdict(stages=judged, sla=record)


def apply_sla(record: RunRecord, policy: SlaPolicy) -> RunRecord:
    """The record with every stage's `sla` and the run's `sla` filled; exit code untouched."""
    verdict = judge(record.stages, policy, wall_time_s(record))
    return replace(record, stages=verdict.stages, sla=verdict.sla)


class SlaManager:
    """The seed's SLA manager: `check_all_stages(...)`, then read `.violations`/`.warnings`."""

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.violations: list[str] = []
        self.warnings: list[str] = []
        self.critical_violation = False
        self.stages: tuple[StageRecord, ...] = ()

    def check_all_stages(self, metrics: RunRecord | Iterable[StageRecord]) -> bool:
        """True when nothing breached its target; a whole record also checks the budget."""
        if isinstance(metrics, RunRecord):
            verdict = judge(metrics.stages, self.policy, wall_time_s(metrics))
        else:
            verdict = judge(metrics, self.policy, None)
        self.stages = verdict.stages
        self.violations = list(verdict.sla.violations)
        self.warnings = list(verdict.sla.warnings)
        self.critical_violation = verdict.sla.critical_violation
        return not self.violations
