"""Per-test trends: the run where each test got slower, with its commit range.

The same change-point search as the stage trends (`sla.trend_steps.find_shifts`, binary
segmentation with a Bonferroni-corrected t test on log durations), run on every test's
passing durations. A test's own floor is `MIN_TEST_SECONDS`, not the stage floor: a test
going from 0.2 s to 0.3 s is worth naming.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.model.config import TrendConfig
from sla.trend_model import TestStep
from sla.trend_steps import find_shifts

MIN_TEST_SECONDS = 0.02
MIN_RUNS = 8  # fewer runs of a test: no change point is looked for

DurationRow = tuple[str, str | None, str, float]  # run id, commit, test id, seconds


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
        for shift in find_shifts(values, settings, min_seconds=MIN_TEST_SECONDS):
            if shift.after <= shift.before:
                continue
            run_id, sha, _ = points[shift.index]
            previous = points[shift.index - 1][1]
            found.append(
                TestStep(test_id, run_id, previous, sha, shift.before, shift.after, shift.p_value)
            )
    return sorted(found, key=lambda step: (-step.change, step.test_id))
