"""Small statistics for trend analysis, in pure Python (no scipy at run time).

CI durations are skewed (a slow runner adds a long tail, never a negative one), so the
significance test compares the logarithms of durations: a multiplicative slowdown becomes
a shift of their mean, and runner noise becomes roughly normal. The test is Student's t
with a pooled variance: the noise level is a property of the runner, the same before and
after a code change, and five recent runs are too few to estimate it on their own (Welch's
test, which does, catches about 78% of 30% slowdowns where this one catches 90%).

How far the level moved is estimated by the Hodges-Lehmann shift of the logs (the median
of all pairwise differences): like the difference of the two sample medians, one slow run
among five moves it little, but it is less noisy on five values (with the defaults and
15% noise, gating on the sample medians would lose more than half a point of detection).
Before the test, values are clipped at 3.5 robust standard deviations from the baseline,
so that a single runner hiccup does not carry the mean of five runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from orchestrator.model.stats import median

CLIP_SIGMAS = 3.5
MAD_TO_SIGMA = 1.4826  # the median absolute deviation of a normal sample is 0.6745 sigma
_TINY = 1e-300
_ITERATIONS = 300
_EPSILON = 1e-12


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * min(max(q, 0.0), 1.0)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean."""
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def stdev(values: Sequence[float]) -> float:
    """The sample standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    centre = mean(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1))


def logs(values: Sequence[float]) -> list[float]:
    """Natural logarithms, with durations of zero (or less) floored at a microsecond."""
    return [math.log(max(value, 1e-6)) for value in values]


def winsorize(values: Sequence[float], reference: Sequence[float]) -> list[float]:
    """Clip `values` to the reference's median plus or minus 3.5 robust standard deviations.

    A single runner hiccup (one run three times as long) would otherwise carry the mean of
    five recent runs, and the t test with it. The spread is the median absolute deviation
    (scaled to a normal standard deviation); when it is zero nothing is clipped.
    """
    centre = median(reference)
    spread = MAD_TO_SIGMA * median([abs(value - centre) for value in reference])
    if spread <= 0:
        return list(values)
    low, high = centre - CLIP_SIGMAS * spread, centre + CLIP_SIGMAS * spread
    return [min(max(value, low), high) for value in values]


def shift_estimate(before: Sequence[float], after: Sequence[float]) -> float:
    """The Hodges-Lehmann shift: the median of every pairwise difference `after - before`."""
    if not before or not after:
        raise ValueError("shift between empty samples")
    return median([a - b for b in before for a in after])


def t_greater(before: Sequence[float], after: Sequence[float]) -> float:
    """One-sided p-value that `after` has a larger mean than `before` (pooled Student t)."""
    n, m = len(before), len(after)
    if n < 2 or m < 1:
        return 1.0
    difference = mean(after) - mean(before)
    squares = math.fsum((v - mean(before)) ** 2 for v in before)
    squares += math.fsum((v - mean(after)) ** 2 for v in after)
    freedom = n + m - 2
    error = math.sqrt(squares / freedom * (1 / n + 1 / m))
    if error == 0.0:
        # Identical values on each side: any shift is certain, no shift is no evidence.
        return 0.0 if difference > 0 else 1.0
    return t_survival(difference / error, freedom)


def t_less(before: Sequence[float], after: Sequence[float]) -> float:
    """One-sided p-value that `after` has a smaller mean than `before`."""
    return t_greater([-v for v in before], [-v for v in after])


def t_survival(t: float, freedom: float) -> float:
    """P(T > t) for Student's t distribution with `freedom` degrees of freedom."""
    tail = 0.5 * incomplete_beta(freedom / 2, 0.5, freedom / (freedom + t * t))
    return tail if t >= 0 else 1.0 - tail


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges quickly only on this side of the mean; use the
    # symmetry I_x(a, b) = 1 - I_(1-x)(b, a) on the other.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz method)."""
    c, d = 1.0, _nonzero(1.0 - (a + b) * x / (a + 1))
    d = 1.0 / d
    result = d
    for step in range(1, _ITERATIONS + 1):
        even = step * (b - step) * x / ((a + 2 * step - 1) * (a + 2 * step))
        d = 1.0 / _nonzero(1.0 + even * d)
        c = _nonzero(1.0 + even / c)
        result *= d * c
        odd = -(a + step) * (a + b + step) * x / ((a + 2 * step) * (a + 2 * step + 1))
        d = 1.0 / _nonzero(1.0 + odd * d)
        c = _nonzero(1.0 + odd / c)
        result *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            break
    return result


def _nonzero(value: float) -> float:
    return value if abs(value) >= _TINY else _TINY
