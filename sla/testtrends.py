"""Per-test trends: the run where each test got slower, and the tests behind a stage's rise.

The same change-point search as the stage trends (`sla.trend_steps.find_shifts`, binary
segmentation with a Bonferroni-corrected t test on log durations), run on every test's
passing durations, with a floor of its own: `trend.test_min_seconds` (0.1 s), as a stage
has `min_seconds`. Near zero a ratio means nothing (0.000 s to 0.081 s is "+8049900%"),
so a test must also have risen by that many seconds to be named.

When a stage got slower (a level shift up, or else a regression of its recent runs), the
tests' durations on either side of that run say why: each test's median before and
after, a test that never ran before counting from zero. The tests that add the most,
each at least the test floor, are named until they explain the rise; a test set that
changed there (tests new, tests gone) is said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from orchestrator.model.config import TrendConfig
from orchestrator.model.stats import median
from sla.trend_model import (
    GroupTrend,
    SeriesTrend,
    SlowerTest,
    StageSlowdown,
    TestCause,
    TestStep,
    TrendReport,
    Verdict,
)
from sla.trend_steps import find_shifts

MIN_RUNS = 8  # fewer runs of a test: no change point is looked for
SHOWN_CAUSES = 5  # tests named for one stage's rise, at most
EXPLAINED = 0.8  # name tests until they add this share of the stage's rise

DurationRow = tuple[str, str | None, str, float]  # run id, commit, test id, seconds


def with_test_trends(
    report: TrendReport, rows: Mapping[tuple[str, str], Sequence[DurationRow]]
) -> TrendReport:
    """`report` with its tests that got slower and its stages' slowdowns explained.

    `rows`: (lane, stage) -> the passing tests' rows of that stage in that lane, oldest
    first (`history.tests.passed_durations`).
    """
    settings = report.settings
    slower = tuple(
        SlowerTest(lane, stage, step)
        for (lane, stage), found in rows.items()
        for step in slower_tests(found, settings)
    )
    slowdowns = tuple(
        slowdown
        for group in report.groups
        for slowdown in stage_slowdowns(group, _of_lane(rows, group.lane), settings)
    )
    return replace(report, slower_tests=slower, slowdowns=slowdowns)


def _of_lane(
    rows: Mapping[tuple[str, str], Sequence[DurationRow]], lane: str
) -> dict[str, Sequence[DurationRow]]:
    return {stage: found for (of, stage), found in rows.items() if of == lane}


def slower_tests(rows: Iterable[DurationRow], settings: TrendConfig) -> list[TestStep]:
    """Every upward step of every test in `rows` (oldest first), slowest change first."""
    series: dict[str, list[tuple[str, str | None, float]]] = {}
    for run_id, sha, test_id, seconds in rows:
        series.setdefault(test_id, []).append((run_id, sha, seconds))
    found: list[TestStep] = []
    for test_id, points in series.items():
        if len(points) < MIN_RUNS:
            continue
        values = [max(seconds, 1e-6) for *_, seconds in points]
        for shift in find_shifts(values, settings, min_seconds=settings.test_min_seconds):
            if shift.after <= shift.before:
                continue
            run_id, sha, _ = points[shift.index]
            previous = points[shift.index - 1][1]
            found.append(
                TestStep(test_id, run_id, previous, sha, shift.before, shift.after, shift.p_value)
            )
    return sorted(found, key=lambda step: (-(step.after_s - step.before_s), step.test_id))


def stage_slowdowns(
    group: GroupTrend, rows: Mapping[str, Sequence[DurationRow]], settings: TrendConfig
) -> list[StageSlowdown]:
    """For each stage of `group` that got slower, the tests that explain it.

    `rows`: stage name -> its passing tests' rows in the group's lane, oldest first. A
    stage got slower from the first run of each upward level shift, or, for a regression
    without one, from the first of its recent runs.
    """
    found = []
    for series in group.stages:
        stage_rows = rows.get(series.name, ())
        if not stage_rows:
            continue
        for index in _rises(series):
            if index > 0:
                found.append(_explain(group.lane, series, index, stage_rows, settings))
    return found


def _rises(series: SeriesTrend) -> list[int]:
    """Indexes (in the series' points) of the first run at each higher level."""
    rises = [step.index for step in series.steps if step.after > step.before]
    if not rises and series.verdict is Verdict.REGRESSION and series.comparison is not None:
        rises.append(len(series.points) - series.comparison.recent_n)
    return rises


def _explain(
    lane: str,
    series: SeriesTrend,
    index: int,
    rows: Sequence[DurationRow],
    settings: TrendConfig,
) -> StageSlowdown:
    runs = [point.run_id for point in series.points]
    ends = [step.index for step in series.steps if step.index > index]
    before_runs = set(runs[max(0, index - settings.baseline) : index])
    after_runs = set(runs[index : min(ends, default=len(runs))])
    before, after = _per_test(rows, before_runs), _per_test(rows, after_runs)
    causes = [
        TestCause(test_id, _median(before.get(test_id)), median(seconds))
        for test_id, seconds in after.items()
    ]
    causes = sorted(
        (cause for cause in causes if cause.added_s >= settings.test_min_seconds),
        key=lambda cause: (-cause.added_s, cause.test_id),
    )
    stage_before = median(p.value for p in series.points if p.run_id in before_runs)
    stage_after = median(p.value for p in series.points if p.run_id in after_runs)
    named: list[TestCause] = []
    for cause in causes[:SHOWN_CAUSES]:
        if sum(c.added_s for c in named) >= EXPLAINED * (stage_after - stage_before):
            break
        named.append(cause)
    return StageSlowdown(
        lane=lane,
        stage=series.name,
        run_id=runs[index],
        before_s=stage_before,
        after_s=stage_after,
        causes=tuple(named),
        new_tests=len(set(after) - set(before)),
        gone_tests=len(set(before) - set(after)),
    )


def _per_test(rows: Sequence[DurationRow], runs: set[str]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for run_id, _, test_id, seconds in rows:
        if run_id in runs:
            found.setdefault(test_id, []).append(seconds)
    return found


def _median(values: list[float] | None) -> float | None:
    return median(values) if values else None
