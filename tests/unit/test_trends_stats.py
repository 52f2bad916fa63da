"""The pure-Python statistics against values from published tables (no scipy needed)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.stats import median
from sla.trend_stats import (
    CLIP_SIGMAS,
    incomplete_beta,
    quantile,
    shift_estimate,
    stdev,
    t_greater,
    t_less,
    t_survival,
    winsorize,
)


@pytest.mark.parametrize(
    ("t", "freedom", "expected"),
    [
        (0.0, 5, 0.5),
        (1.0, 1, 0.25),  # Cauchy: arctan
        (2.0, 10, 0.036694017385370),
        (2.0, 2, 0.091751709536137),
        (2.807, 23, 0.005),  # t table: 99.5% quantile, 23 degrees of freedom
        (-2.0, 10, 1 - 0.036694017385370),
    ],
)
def test_student_t_tail_matches_tables(t: float, freedom: int, expected: float) -> None:
    assert t_survival(t, freedom) == pytest.approx(expected, rel=1e-3)


def test_incomplete_beta_known_values() -> None:
    assert incomplete_beta(2, 3, 0.5) == pytest.approx(0.6875)
    assert incomplete_beta(1, 1, 0.3) == pytest.approx(0.3)
    assert incomplete_beta(5, 0.5, 0.0) == 0.0
    assert incomplete_beta(5, 0.5, 1.0) == 1.0


@given(
    st.floats(min_value=0.5, max_value=50),
    st.floats(min_value=0.5, max_value=50),
    st.floats(min_value=0.001, max_value=0.999),
)
def test_incomplete_beta_is_a_probability_with_its_symmetry(a: float, b: float, x: float) -> None:
    value = incomplete_beta(a, b, x)
    assert 0.0 <= value <= 1.0
    assert value + incomplete_beta(b, a, 1 - x) == pytest.approx(1.0, abs=1e-9)


def test_quantiles_interpolate_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert median(values) == 3.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert quantile(values, 0.95) == pytest.approx(8.8)
    assert quantile([7.0], 0.95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_pooled_t_on_a_clear_shift_and_on_none() -> None:
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98]
    after = [1.5, 1.6, 1.4, 1.55, 1.45]
    assert t_greater(before, after) < 1e-6
    assert t_less(before, after) > 0.999
    assert t_greater(before, before) == pytest.approx(0.5)
    assert t_greater([1.0, 1.0], [2.0]) == 0.0  # no spread at all: the shift is certain
    assert t_greater([1.0, 1.0], [1.0]) == 1.0
    assert t_greater([1.0], [2.0]) == 1.0  # one baseline value: no test


def test_shift_estimate_ignores_one_outlier() -> None:
    before = [0.0, 0.1, -0.1, 0.05, -0.05]
    assert shift_estimate(before, [x + 0.3 for x in before]) == pytest.approx(0.3)
    assert shift_estimate(before, [0.0, 0.1, -0.1, 0.05, 5.0]) < 0.1


def test_winsorize_clips_at_robust_sigmas() -> None:
    reference = [0.0, 0.1, -0.1, 0.2, -0.2]  # MAD 0.1: sigma about 0.148
    clipped = winsorize([0.0, 5.0, -5.0], reference)
    assert clipped[0] == 0.0
    assert clipped[1] == pytest.approx(CLIP_SIGMAS * 1.4826 * 0.1)
    assert clipped[2] == pytest.approx(-CLIP_SIGMAS * 1.4826 * 0.1)
    assert winsorize([9.0], [1.0, 1.0, 1.0]) == [9.0]  # no spread: nothing to clip against


def test_stdev() -> None:
    assert stdev([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(math.sqrt(32 / 7))
    assert stdev([3.0]) == 0.0
