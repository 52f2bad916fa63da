"""Every figure a finding or the headline quotes agrees with the record it came from.

Over generated records (schedules the pool's policy makes, started a little late as real
runs are, some with split stages, cached, failed, cancelled or interrupted stages, some
moved where no replay would put them) and over real records of real runs kept in
tests/unit/records/ (machine paths taken out): starts, waits and durations are the
record's, the critical path is never longer than the run, "→" only joins a stage to its
need, each saving is at most the replay's for that very change, and a run whose timing
says nothing gets no speed finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from orchestrator.engine.scheduling.replay import ReplaySetup, ReplayStage, simulate
from orchestrator.model.records import (
    PoolRecord,
    RunRecord,
    StageCache,
    StagePart,
    StageRecord,
    StageStatus,
    read_record,
)
from tests.helpers.reports_samples import record
from tests.unit.findings_check import check, judged

RECORDS = Path(__file__).parent / "records"
NAMES = ("lint", "typecheck", "unit", "integration", "security", "docs")
ODD_ENDS = (
    (StageStatus.CANCELLED, None),
    (StageStatus.ERROR, 127),
    (StageStatus.FAILED, 4),
    (StageStatus.TIMEOUT, 124),
    (StageStatus.SKIPPED, None),
)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[tuple[ReplayStage, ...], ReplaySetup]:
    """Stages with needs, kinds, priorities and split parts, and a pool to run them."""
    budget = draw(st.booleans())
    stages = []
    for i, name in enumerate(NAMES[: draw(st.integers(min_value=1, max_value=6))]):
        needs = draw(st.lists(st.sampled_from(NAMES[:i]), max_size=2, unique=True)) if i else []
        duration = draw(st.floats(min_value=0.05, max_value=60))
        kind = draw(st.sampled_from([None, "cpu", "io"]))
        parts: tuple[float, ...] = ()
        if kind == "cpu" and draw(st.integers(min_value=0, max_value=3)) == 0:
            shares = draw(st.lists(st.floats(0.2, 1.0), min_size=1, max_size=2))
            parts = (*sorted(duration * share for share in shares), duration)
        stages.append(
            ReplayStage(
                name=name,
                number=i + 2,
                duration_s=duration,
                needs=tuple(needs),
                serial=draw(st.integers(min_value=0, max_value=5)) == 0,
                kind=kind,
                cpu_demand=float(len(parts)) if parts else None,
                expected_s=draw(st.none() | st.floats(min_value=0, max_value=60)),
                parts=parts,
            )
        )
    setup = ReplaySetup(
        workers=draw(st.integers(min_value=1, max_value=4)),
        cores=draw(st.sampled_from([1.0, 2.0, 4.0])),
        budget_cores=budget,
    )
    return tuple(stages), setup


def as_stage(stage: ReplayStage, start: float, slot: int, **fields: Any) -> StageRecord:
    """The record a stage of this schedule leaves, its parts side by side from its start."""
    parts = tuple(
        StagePart(
            part=f"{k}/{len(stage.parts)}",
            status=StageStatus.PASSED,
            start_offset_s=start,
            duration_s=end,
        )
        for k, end in enumerate(stage.parts, start=1)
    )
    values: dict[str, Any] = {
        "number": stage.number,
        "name": stage.name,
        "status": StageStatus.PASSED,
        "exit_code": 0,
        "attempts": 1,
        "start_offset_s": start,
        "duration_s": stage.duration_s,
        "worker": f"process-{slot}",
        "executor": "process",
        "needs": stage.needs,
        "serial": stage.serial,
        "kind": stage.kind,
        "expected_s": stage.expected_s,
        "cpu_demand": stage.cpu_demand,
        "command": "pytest -q tests" if stage.parts else f"tool-{stage.name}",
        "parts": parts,
    }
    values.update(fields)
    return StageRecord(**values)


@st.composite
def records(draw: st.DrawFn) -> RunRecord:
    """A judged record of a generated schedule, as a real run of it would leave it."""
    stages, setup = draw(schedules())
    placed = simulate(stages, setup)
    late = draw(st.floats(min_value=0, max_value=0.04))  # each start a little late
    built = []
    for order, stage in enumerate(sorted(stages, key=lambda s: placed[s.name].start_s)):
        where = placed[stage.name]
        fields: dict[str, Any] = {}
        outcome = draw(st.integers(min_value=0, max_value=19))
        if outcome == 0:
            fields = {"status": StageStatus.FAILED, "exit_code": 1}
        elif outcome == 1:
            status, code = draw(st.sampled_from(ODD_ENDS))
            fields = {"status": status, "exit_code": code}
        elif outcome == 2 and not stage.parts:
            fields = {"cache": StageCache(hit=True, key="k", from_run="r", saved_s=9.0)}
        moved = draw(st.integers(min_value=0, max_value=9)) == 0  # not where a replay puts it
        start = where.start_s + late * (order + 1) + (7.5 if moved else 0.0)
        built.append(as_stage(stage, start, where.slot, **fields))
    wall = max(s.start_offset_s + s.duration_s for s in built) + late
    run = record(
        *sorted(built, key=lambda s: s.number),
        workers=setup.workers,
        strategy="adaptive" if setup.budget_cores else "process",
        exit_code=draw(st.sampled_from([0, 0, 0, 1, 3, 130, 143, 5])),
        pool=PoolRecord(
            usable_cpus=setup.cores,
            total_duration_s=wall,
            worker_utilization_percent=draw(st.floats(1, 100)),
            chosen_by_workflow=draw(st.sampled_from([(), ("strategy", "workers")])),
        ),
    )
    return judged(run)


@settings(deadline=None, max_examples=300)
@given(records())
def test_every_figure_quoted_about_a_generated_run_agrees_with_its_record(run: RunRecord) -> None:
    event("speed findings" if any(b.saving_s for b in run.bottlenecks) else "none")
    event("no speed findings: " + (run.pool.untimed.split(":")[0] or "-"))
    check(run)


@pytest.mark.parametrize("path", sorted(RECORDS.glob("*.json")), ids=lambda p: p.stem)
def test_every_figure_quoted_about_a_real_run_agrees_with_its_record(path: Path) -> None:
    check(judged(read_record(path)))


def test_the_real_records_cover_findings_and_runs_without_them() -> None:
    runs = [judged(read_record(path)) for path in sorted(RECORDS.glob("*.json"))]
    assert any(b.saving_s for run in runs for b in run.bottlenecks)
    assert any(run.pool.untimed for run in runs)
    assert any(s.parts for run in runs for s in run.stages)
