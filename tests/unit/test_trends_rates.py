"""Must-show: quiet when nothing changed, loud when something did (1,000 seeded series).

Each series is 20 baseline runs then 5 recent runs of a 10 s stage with log-normal noise
of 15% CV; series i draws its noise from `random.Random(i)`. The same noise is judged
twice: as it is (no change) and with the 5 recent runs 30% slower.

These bounds sit at the edge of what any test at significance 0.02 can do with 25 runs:
the most powerful one (Student's t on the logs, with no size gate and no clipping) is
expected to catch 90.5% of 30% steps while raising 2.0% false alarms. Over 60,000 other
series the rule measured 1.9% and 90.2%, so another seed can land either bound a few
series on the wrong side; these seeds (0 to 999) were fixed before the rule was tuned.
"""

from __future__ import annotations

from orchestrator.model.config import TrendConfig
from sla.trend_model import Verdict
from sla.trends import judge
from tests.helpers.trends_data import stepped

SERIES = 1000


def regression_rate(step: float) -> float:
    settings = TrendConfig()
    flagged = sum(
        judge(stepped(seed, step=step), settings)[0] is Verdict.REGRESSION for seed in range(SERIES)
    )
    return flagged / SERIES


def test_false_alarms_and_detections_of_a_30_percent_step() -> None:
    false_alarms = regression_rate(1.0)
    detections = regression_rate(1.3)
    print(f"no change: {false_alarms:.1%} flagged; 30% step: {detections:.1%} flagged")
    assert false_alarms <= 0.02
    assert detections >= 0.90


def test_one_slow_run_among_the_recent_rarely_raises_a_regression() -> None:
    # A runner hiccup: the latest run took three times as long, the others did not move.
    # Clipping at 3.5 robust sigmas keeps this near an eighth (23% without clipping);
    # clipping harder would cost the 30% step its 90% detection rate.
    settings = TrendConfig()
    flagged = 0
    for seed in range(SERIES):
        values = stepped(seed)
        values[-1] *= 3
        flagged += judge(values, settings)[0] is Verdict.REGRESSION
    print(f"one run 3x slower among the recent five: {flagged / SERIES:.1%} flagged")
    assert flagged / SERIES <= 0.15
