"""Step changes: where a series' level shifted, and by how much (binary segmentation).

The best split of a segment is the one with the largest t statistic between the log
durations on either side. Trying every split, in both directions, inflates the chance of a
spurious one, so its two-sided p-value is multiplied by the number of splits tried
(Bonferroni) before it is compared with the significance level; the same size floors as
for regressions apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from orchestrator.model.config import TrendConfig
from orchestrator.model.stats import median
from sla.trend_stats import logs, t_survival

MIN_SEGMENT = 3  # runs on each side of a step
MAX_DEPTH = 3  # at most 2**3 - 1 steps in one series


@dataclass(frozen=True)
class Shift:
    """A level shift at `index` (the first value at the new level)."""

    index: int
    before: float
    after: float
    p_value: float


def find_shifts(
    values: Sequence[float], settings: TrendConfig, *, min_seconds: float | None = None
) -> list[Shift]:
    """Every significant, large enough level shift in `values`, in order."""
    floor = settings.min_seconds if min_seconds is None else min_seconds
    finder = _Finder(values, logs(values), settings, floor)
    finder.segment(0, len(values), depth=0)
    return sorted(finder.found, key=lambda shift: shift.index)


@dataclass
class _Finder:
    values: Sequence[float]
    logged: list[float]
    settings: TrendConfig
    floor: float
    found: list[Shift] = field(default_factory=list)

    def segment(self, low: int, high: int, *, depth: int) -> None:
        if depth >= MAX_DEPTH or high - low < 2 * MIN_SEGMENT:
            return
        best = _best_split(self.logged[low:high])
        if best is None:
            return
        split = low + best[0]
        tried = high - low - 2 * MIN_SEGMENT + 1
        p_value = min(1.0, 2 * tried * t_survival(abs(best[1]), high - low - 2))  # either way
        before = median(self.values[low:split])
        after = median(self.values[split:high])
        if not self._large_enough(before, after, p_value):
            return
        self.found.append(Shift(split, before, after, p_value))
        self.segment(low, split, depth=depth + 1)
        self.segment(split, high, depth=depth + 1)

    def _large_enough(self, before: float, after: float, p_value: float) -> bool:
        relative = abs(after / before - 1.0) if before > 0 else 0.0
        return (
            p_value < self.settings.significance
            and relative > self.settings.min_increase
            and abs(after - before) > self.floor
        )


def _best_split(logged: Sequence[float]) -> tuple[int, float] | None:
    """The split with the largest |t| (pooled variance), from running sums: O(n)."""
    count = len(logged)
    sums = [0.0, *accumulate(logged)]
    squares = [0.0, *accumulate(v * v for v in logged)]
    best: tuple[int, float] | None = None
    for split in range(MIN_SEGMENT, count - MIN_SEGMENT + 1):
        left, right = split, count - split
        left_mean = sums[split] / left
        right_mean = (sums[count] - sums[split]) / right
        spread = squares[split] - left * left_mean**2
        spread += squares[count] - squares[split] - right * right_mean**2
        variance = max(spread, 0.0) / (count - 2)
        error = math.sqrt(variance * (1 / left + 1 / right))
        difference = right_mean - left_mean
        if error <= 1e-12:
            # No noise at all on either side: any difference is certain.
            statistic = math.copysign(math.inf, difference) if difference else 0.0
        else:
            statistic = difference / error
        if best is None or abs(statistic) > abs(best[1]):
            best = (split, statistic)
    return best
