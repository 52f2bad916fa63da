"""The replay benchmark's cases: a change, the predictions made for it, the measurement.

A prediction holds within 10% of the measured wall time, or 0.3 s; a finding of the
baseline that proposes the same change predicts a wall of its own; the records must
agree with their replays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.model.records import RunRecord, wall_time_s
from orchestrator.model.whatif import WhatIf
from sla.bottlenecks import facts
from sla.schedule import change_for

TOLERANCE = 0.10
TOLERANCE_S = 0.3


def label(change: WhatIf) -> str:
    """A change in words: "halve b", "b without its needs", "one more worker"."""
    if change.more_workers:
        return "one more worker"
    if change.more_cores:
        return "one more core"
    if change.drop_needs:
        return f"{change.stage} without its needs"
    return f"halve {change.stage}"


@dataclass
class Case:
    """One change: the replay's prediction, the finding's, the measurement."""

    project: str
    change: str
    base_s: float
    predicted_s: float
    measured_s: float
    finding_s: float | None = None  # the wall a finding of the baseline predicts
    needs_finding: bool = False
    checkable: bool = True  # False: this machine cannot make the change (a core it lacks)
    stage_s: tuple[float, float] | None = None  # a halved stage: its seconds before, after
    findings_ok: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def error_s(self) -> float:
        """Predicted minus measured, seconds."""
        return self.predicted_s - self.measured_s

    @property
    def holds(self) -> bool:
        """Within 10% of the measured wall, or 0.3 s; a finding it needs, there."""
        if self.needs_finding and self.finding_s is None:
            return False
        if not self.checkable:
            return True
        return abs(self.error_s) <= max(TOLERANCE * self.measured_s, TOLERANCE_S)


def findings_ok(record: RunRecord) -> list[str]:
    """What is wrong with a record's findings: a replay that disagrees, a duplicate, or
    savings past the wall time ([] when nothing)."""
    wrong = []
    if record.pool.untimed:
        wrong.append(f"{record.run_id}: {record.pool.untimed}")
    keys = [(b.stage, b.kind) for b in record.bottlenecks]
    if len(keys) != len(set(keys)):
        wrong.append(f"{record.run_id}: two findings share a stage and a cause")
    if sum(b.saving_s or 0.0 for b in record.bottlenecks) > wall_time_s(record) + 1e-6:
        wrong.append(f"{record.run_id}: the savings claim more than the wall time")
    return wrong


def finding_wall(record: RunRecord, change: WhatIf) -> float | None:
    """The wall the baseline's finding about `change` predicts (None: no such finding)."""
    run = facts(record)
    for finding in record.bottlenecks:
        if finding.saving_s is not None and change_for(run, finding) == change:
            return wall_time_s(record) - finding.saving_s
    return None


def stage_seconds(
    base: RunRecord, changed: RunRecord, change: WhatIf
) -> tuple[float, float] | None:
    """A halved stage's seconds in the baseline and in the changed run."""
    if change.stage is None or change.drop_needs:
        return None
    before, after = base.stage(change.stage), changed.stage(change.stage)
    if before is None or after is None:
        return None
    return before.duration_s, after.duration_s


def _verdict(case: Case) -> str:
    if not case.checkable:
        return "not made here"
    return "yes" if case.holds else "NO"


def table(cases: Sequence[Case]) -> list[str]:
    """The cases as a markdown table, and the count that held."""
    lines = [
        "| project | change | stage took | wall before | predicted | finding | measured | error "
        "| holds | records |",
        "|---|---|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for c in cases:
        said = "—" if c.finding_s is None else f"{c.finding_s:.2f}s"
        took = "—" if c.stage_s is None else f"{c.stage_s[0]:.2f}s → {c.stage_s[1]:.2f}s"
        lines.append(
            f"| {c.project} | {c.change} | {took} | {c.base_s:.2f}s | {c.predicted_s:.2f}s | "
            f"{said} | {c.measured_s:.2f}s | {c.error_s:+.2f}s | {_verdict(c)} | "
            f"{'ok' if c.findings_ok else 'BAD: ' + '; '.join(c.notes)} |"
        )
    made = [c for c in cases if c.checkable]
    held = sum(c.holds for c in made)
    lines += ["", f"{held} of {len(made)} predictions within 10% (or 0.3 s) of the measured wall."]
    lines += [f"Not made here: {c.project}, {c.change}." for c in cases if not c.checkable]
    return lines
