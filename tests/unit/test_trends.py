"""Trend analysis over hand-built run records: what is a regression, what is only noise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from orchestrator.model.config import TrendConfig
from orchestrator.model.records import PoolRecord, RunRecord, StageStatus
from sla.trend_model import WHOLE_RUN, GroupTrend, SeriesTrend, Verdict
from sla.trends import analyse, judge, min_baseline, throughput_degradation
from tests.helpers.trends_data import MIB, noisy, run, runs_from, seeded, stage, stepped

SETTINGS = TrendConfig()


def only_group(records: Sequence[RunRecord]) -> GroupTrend:
    report = analyse(records, SETTINGS)
    assert len(report.groups) == 1
    return report.groups[0]


def series(group: GroupTrend, name: str) -> SeriesTrend:
    return next(s for s in group.series if s.name == name)


def test_a_stage_that_got_30_percent_slower_regresses_and_the_others_do_not() -> None:
    rng = seeded(1)
    records = runs_from(
        {
            "lint": noisy(rng, 5.0, 25),
            "unit": noisy(rng, 20.0, 20) + noisy(rng, 26.0, 5),
        }
    )
    group = only_group(list(records))
    unit, lint = series(group, "unit"), series(group, "lint")
    assert unit.verdict is Verdict.REGRESSION, unit.reason
    assert unit.comparison is not None
    assert unit.comparison.change == pytest.approx(0.3, abs=0.12)
    assert "p = " in unit.reason
    assert [p.run_id for p in unit.judged] == [r.run_id for r in records[-5:]]
    assert lint.verdict is Verdict.STABLE
    assert unit in group.regressions
    assert analyse(records, SETTINGS).has_regression


def test_the_whole_run_is_judged_on_its_total_duration() -> None:
    values = [10.0 + 0.1 * (i % 3) for i in range(20)] + [14.0 + 0.1 * (i % 3) for i in range(5)]
    group = only_group(list(runs_from({"unit": values})))
    whole = group.whole_run
    assert whole.name == WHOLE_RUN
    assert whole.is_run
    assert whole.verdict is Verdict.REGRESSION
    assert group.series[0] is whole


def test_the_whole_run_only_compares_runs_of_the_same_stages() -> None:
    full = runs_from({"lint": [1.0] * 25, "unit": [10.0] * 25})
    partial = run(25, [stage("lint", 1.0)])  # `workflow run --only lint`
    group = only_group([*full, partial])
    # The latest run ran lint alone: only runs of lint alone compare with it.
    assert [p.run_id for p in group.whole_run.points] == [partial.run_id]
    assert group.whole_run.verdict is Verdict.INSUFFICIENT
    earlier = replace(partial, started_at=full[10].started_at, run_id="early")
    group = only_group([*full, earlier])
    assert len(group.whole_run.points) == 25
    assert group.whole_run.verdict is Verdict.STABLE


def test_too_few_runs_give_no_verdict() -> None:
    needed = SETTINGS.recent + min_baseline(SETTINGS)
    verdict, reason, comparison = judge([10.0] * (needed - 1), SETTINGS)
    assert verdict is Verdict.INSUFFICIENT
    assert comparison is None
    assert f"{needed - 1} runs" in reason
    assert judge([10.0] * needed, SETTINGS)[0] is Verdict.STABLE


def test_a_faster_stage_is_an_improvement_not_a_regression() -> None:
    verdict, _, _ = judge(stepped(3, step=0.6), SETTINGS)
    assert verdict is Verdict.IMPROVEMENT


def test_a_short_stage_doubling_under_the_absolute_floor_is_quiet() -> None:
    values = [0.1] * 20 + [0.2] * 5  # +100%, certain, but only 0.1 s
    verdict, reason, _ = judge(values, SETTINGS)
    assert verdict is Verdict.STABLE
    assert "0.5s floor" in reason


def test_thresholds_come_from_the_settings() -> None:
    values = stepped(5, step=1.3)
    assert judge(values, SETTINGS)[0] is Verdict.REGRESSION
    lenient = TrendConfig(min_increase=0.5)
    verdict, reason, _ = judge(values, lenient)
    assert verdict is Verdict.STABLE
    assert "50% threshold" in reason
    strict_p = TrendConfig(significance=1e-9)
    assert "not significant" in judge(values, strict_p)[1]


def test_runs_of_other_runner_classes_and_lanes_are_never_compared() -> None:
    fast = runs_from({"unit": [10.0] * 20}, runner="linux | fast cpu | 8 cores")
    slow = [
        run(20 + i, [stage("unit", 30.0)], runner="linux | slow cpu | 2 cores") for i in range(5)
    ]
    other_lane = [run(30 + i, [stage("unit", 30.0)], lane="standard") for i in range(5)]
    report = analyse([*fast, *slow, *other_lane], SETTINGS)
    assert len(report.groups) == 3
    assert not report.has_regression
    assert {(g.lane, g.runner_class.split(" | ")[1]) for g in report.groups} == {
        ("heavy", "fast cpu"),
        ("heavy", "slow cpu"),
        ("standard", "Test CPU @ 2.0GHz"),
    }
    assert report.groups[0].lane == "standard"  # the group with the newest run comes first


def test_failed_stages_and_failed_runs_are_left_out_of_the_series() -> None:
    records = runs_from({"unit": [10.0] * 25})
    broken = run(25, [stage("unit", 1.0, status=StageStatus.FAILED)], exit_code=1)
    group = only_group([*records, broken])
    assert len(series(group, "unit").points) == 25
    assert len(group.whole_run.points) == 25
    assert group.runs == 26


def test_a_level_shift_is_located_with_its_size() -> None:
    rng = seeded(7)
    values = [v * 0.1 + 10.0 for v in noisy(rng, 1.0, 15)] + [
        v * 0.1 + 14.0 for v in noisy(rng, 1.0, 12)
    ]
    records = runs_from({"unit": values})
    unit = series(only_group(list(records)), "unit")
    assert len(unit.steps) == 1
    step = unit.steps[0]
    assert step.index == 15
    assert step.run_id == records[15].run_id
    assert step.before == pytest.approx(10.1, abs=0.1)
    assert step.after == pytest.approx(14.1, abs=0.1)
    assert step.change == pytest.approx(0.4, abs=0.03)


def test_noise_alone_shows_no_level_shift() -> None:
    shifted = sum(
        bool(series(only_group(list(runs_from({"unit": stepped(seed)}))), "unit").steps)
        for seed in range(100)
    )
    assert shifted <= 3


def test_the_seed_throughput_rule_is_a_line_not_a_regression() -> None:
    records = runs_from({"unit": [10.0] * 10})
    slow = replace(records[-1], pool=PoolRecord(total_duration_s=10.0, throughput_tasks_per_s=0.05))
    lines = throughput_degradation([*records[:-1], slow], SETTINGS)
    assert len(lines) == 1
    assert "50% of the 0.1 average" in lines[0]
    group = only_group([*records[:-1], slow])
    assert group.degradations == tuple(lines)
    assert not group.regressions
    assert throughput_degradation(records, SETTINGS) == []


def test_memory_growth_and_cpu_are_reported() -> None:
    records = [
        run(i, [stage("unit", 10.0 + 0.01 * (i % 4), rss=(100 if i < 20 else 160) * MIB + i)])
        for i in range(25)
    ]
    unit = series(only_group(records), "unit")
    assert unit.memory is not None
    assert unit.memory.direction == "up"
    assert unit.memory.comparison.change == pytest.approx(0.6, abs=0.01)
    assert unit.cpu is not None
    assert unit.cpu.direction == "flat"


def test_sla_headroom_is_p95_against_the_stage_target() -> None:
    values = [10.0] * 20 + [40.0, 41.0, 42.0, 43.0, 50.0]
    unit = series(only_group(list(runs_from({"unit": values}))), "unit")
    assert unit.headroom is not None
    assert unit.headroom.target_s == 60.0
    assert unit.headroom.p95_s == pytest.approx(48.6)
    assert unit.headroom.headroom_s == pytest.approx(11.4)
    assert unit.headroom.status == "warning"  # past 80% of the target
    over = series(only_group(list(runs_from({"unit": [70.0] * 5}))), "unit")
    assert over.headroom is not None
    assert over.headroom.status == "breach"
    assert over.verdict is Verdict.INSUFFICIENT
