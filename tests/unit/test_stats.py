"""The one median: statistics.median's value, whatever the order, and the 0.5-quantile's float."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.stats import median
from sla.trend_stats import quantile

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=50), st.randoms())
def test_the_median_is_statistics_median_in_any_order(values: list[float], rng: object) -> None:
    shuffled = list(values)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert math.isclose(median(shuffled), statistics.median(values), rel_tol=1e-12, abs_tol=1e-9)
    assert median(shuffled) == median(sorted(values))
    assert median(iter(values)) == median(values)  # any iterable, read once


@given(st.lists(finite, min_size=1, max_size=50))
def test_the_median_is_the_same_float_as_the_half_quantile(values: list[float]) -> None:
    assert median(values) == quantile(values, 0.5)


def test_no_values_have_no_median() -> None:
    with pytest.raises(ValueError, match="median of no values"):
        median([])
