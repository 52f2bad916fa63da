"""The one median and the one fixed-decimals duration: the same floats and text as before."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.stats import median
from orchestrator.model.units import MIB, fixed_seconds
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


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 3))
def test_a_fixed_duration_has_exactly_its_decimals(value: float, digits: int) -> None:
    # The format every "12.3s" line of the live view, the merge and the trends uses.
    assert fixed_seconds(value, digits) == f"{value:.{digits}f}s"
    assert fixed_seconds(value, digits, signed=True) == f"{value:+.{digits}f}s"
    assert MIB == 2**20
