"""The trend chart's axis: labels that read differently for different heights."""

from __future__ import annotations

import pytest

from orchestrator.model.config import TrendConfig
from reports.trend import axis_labels, build_chart
from sla.trends import analyse
from tests.helpers.trends_data import noisy, runs_from, seeded


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([0.0, 0.06, 0.12], ["0s", "0.06s", "0.12s"]),
        ([0.0, 0.05, 0.1], ["0s", "0.05s", "0.1s"]),
        ([0.0, 5.5, 11.0], ["0s", "5.5s", "11s"]),
        ([0.0, 60.0, 120.0], ["0s", "60s", "120s"]),
    ],
)
def test_axis_labels_use_as_many_decimals_as_it_takes(
    values: list[float], labels: list[str]
) -> None:
    assert axis_labels(values) == labels


def test_a_sub_second_stage_gets_distinct_axis_labels() -> None:
    report = analyse(runs_from({"lint": noisy(seeded(1), 0.06, 25)}), TrendConfig())
    (series,) = [s for g in report.groups for s in g.stages if s.name == "lint"]
    labels = [label for _, label in build_chart(series).ticks]
    assert len(set(labels)) == 3, labels
