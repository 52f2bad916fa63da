"""The median: one definition for the profiles, split and shard plans, test history and
trends alike.

Not `statistics.median`: that module (with fractions and decimal) costs about 9 ms of
start-up, and profiles and split plans are read on the way to the first stage. The mean
of the middle two is interpolated as `sla.trend_stats.quantile` interpolates (numpy's
default), so a median and a 0.5-quantile of the same values are the same float.
"""

from __future__ import annotations

from collections.abc import Iterable


def median(values: Iterable[float]) -> float:
    """The middle value of `values` (any order), the mean of the middle two for an even
    count. Raises ValueError for no values."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of no values")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    low, high = ordered[middle - 1], ordered[middle]
    return low + (high - low) * 0.5
