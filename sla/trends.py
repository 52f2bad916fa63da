"""Trend analysis: did a stage (or the whole run) get slower for real, or is it runner noise?

Pure functions over run records. Only runs of the same lane and runner class are compared.
The recent runs (`trend.recent`) are judged against the runs before them (`trend.baseline`),
and a regression needs all of: enough samples, a relative rise of the typical duration
over `min_increase` (the shift between the two windows' medians, see `trend_stats`), an
absolute rise over `min_seconds`, and a one-sided test on log durations below
`significance`. Benchmark trackers that compare one run with the previous one at a
fixed ratio fire on runner noise until teams raise the ratio to 400% and stop reading;
each of these gates answers one way that happens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from orchestrator.model.config import TrendConfig
from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, StageRecord
from orchestrator.model.run_order import runs_oldest_first
from orchestrator.model.stats import median
from orchestrator.model.units import count, fixed_seconds
from sla.trend_model import (
    WHOLE_RUN,
    Comparison,
    GroupTrend,
    Headroom,
    Point,
    ResourceTrend,
    SeriesTrend,
    Step,
    TrendReport,
    Verdict,
)
from sla.trend_stats import (
    logs,
    mean,
    quantile,
    shift_estimate,
    t_greater,
    t_less,
    winsorize,
)
from sla.trend_steps import find_shifts

THROUGHPUT_RATIO = 0.8  # the seed's rule: latest throughput under 80% of the average
# every stage passed (an SLA breach still has every stage timed)
PASSING_EXIT_CODES = frozenset({ExitCode.OK, ExitCode.SLA_CRITICAL})


def analyse(records: Iterable[RunRecord], settings: TrendConfig) -> TrendReport:
    """Group runs by lane and runner class and judge every series of each group.

    `records` newest first, as `HistoryStore.runs` lists them: they are put in the
    history's one order (`orchestrator.model.run_order`), so runs that started in the same
    instant keep the order they were recorded in. Groups come out latest run first.
    """
    ordered = runs_oldest_first(records)
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in ordered:
        groups.setdefault((record.lane, record.host.runner_class), []).append(record)
    position = {id(record): index for index, record in enumerate(ordered)}
    judged = [_group(lane, runner, runs, settings) for (lane, runner), runs in groups.items()]
    judged.sort(key=lambda group: position[id(_latest(groups, group))], reverse=True)
    return TrendReport(settings=settings, groups=tuple(judged), runs_read=len(ordered))


def _latest(groups: dict[tuple[str, str], list[RunRecord]], group: GroupTrend) -> RunRecord:
    return groups[(group.lane, group.runner_class)][-1]


def _group(lane: str, runner: str, runs: list[RunRecord], settings: TrendConfig) -> GroupTrend:
    latest = runs[-1]
    return GroupTrend(
        lane=lane,
        runner_class=runner,
        runs=len(runs),
        whole_run=_whole_run(runs, settings),
        stages=tuple(_stage_series(name, runs, settings) for name in _stage_names(runs, latest)),
        degradations=tuple(throughput_degradation(runs, settings)),
    )


def _stage_names(runs: list[RunRecord], latest: RunRecord) -> list[str]:
    """Stages by number as last seen, the latest run's stages first among equals."""
    numbers: dict[str, int] = {}
    for record in runs:
        for stage in record.stages:
            numbers[stage.name] = stage.number
    return sorted(numbers, key=lambda name: (numbers[name], latest.stage(name) is None, name))


def comparable_runs(runs: Sequence[RunRecord]) -> list[RunRecord]:
    """Finished runs whose stages all passed and are the latest run's stages (no `--only`)."""
    if not runs:
        return []
    stages = {stage.name for stage in runs[-1].stages}
    return [
        r
        for r in runs
        if r.finished
        and r.exit_code in PASSING_EXIT_CODES
        and {stage.name for stage in r.stages} == stages
        # A run that reused cached passes did less work: its wall time is no sample.
        and not any(stage.cache_hit for stage in r.stages)
    ]


def _whole_run(runs: list[RunRecord], settings: TrendConfig) -> SeriesTrend:
    complete = comparable_runs(runs)
    points = tuple(Point(r.run_id, r.started_at, r.pool.total_duration_s) for r in complete)
    budget = runs[-1].sla.budget_s
    headroom = _headroom(points, settings, budget, runs[-1].sla.warning_ratio)
    return _series(WHOLE_RUN, points, settings, is_run=True, headroom=headroom)


def _stage_series(name: str, runs: list[RunRecord], settings: TrendConfig) -> SeriesTrend:
    passed: list[tuple[RunRecord, StageRecord]] = []
    for record in runs:
        stage = record.stage(name)
        if stage is not None and stage.status.ok and not stage.cache_hit:
            passed.append((record, stage))
    points = tuple(Point(r.run_id, r.started_at, s.duration_s) for r, s in passed)
    target = passed[-1][1].sla.target_s if passed else None
    ratio = runs[-1].sla.warning_ratio
    series = _series(
        name, points, settings, is_run=False, headroom=_headroom(points, settings, target, ratio)
    )
    cpu = _resource("cpu_percent", [s.cpu_percent for _, s in passed], settings)
    memory = _resource("peak_rss_bytes", [float(s.peak_rss_bytes) for _, s in passed], settings)
    return replace(series, cpu=cpu, memory=memory)


def _series(
    name: str,
    points: tuple[Point, ...],
    settings: TrendConfig,
    *,
    is_run: bool,
    headroom: Headroom | None,
) -> SeriesTrend:
    values = [point.value for point in points]
    verdict, reason, comparison = judge(values, settings)
    steps = tuple(
        Step(
            s.index,
            points[s.index].run_id,
            points[s.index].started_at,
            s.before,
            s.after,
            s.p_value,
        )
        for s in find_shifts(values, settings)
    )
    return SeriesTrend(
        name=name,
        is_run=is_run,
        points=points,
        verdict=verdict,
        reason=reason,
        comparison=comparison,
        steps=steps,
        headroom=headroom,
    )


def min_baseline(settings: TrendConfig) -> int:
    """The fewest baseline runs a verdict needs: half the configured window, at least 3."""
    return max(3, math.ceil(settings.baseline / 2))


def compare(baseline: Sequence[float], recent: Sequence[float]) -> Comparison:
    """Medians of both windows, the shift between them and one-sided p-values (on logs)."""
    before, after = logs(baseline), logs(recent)
    clipped_before, clipped_after = winsorize(before, before), winsorize(after, before)
    return Comparison(
        baseline_n=len(baseline),
        recent_n=len(recent),
        baseline_median=median(baseline),
        recent_median=median(recent),
        change=math.expm1(shift_estimate(before, after)),
        p_greater=t_greater(clipped_before, clipped_after),
        p_less=t_less(clipped_before, clipped_after),
    )


def windows(values: Sequence[float], settings: TrendConfig) -> tuple[list[float], list[float]]:
    """(baseline, recent): the last `recent` values and up to `baseline` values before them."""
    recent = list(values[-settings.recent :]) if values else []
    before = values[: len(values) - len(recent)]
    return list(before[-settings.baseline :]), recent


def judge(values: Sequence[float], settings: TrendConfig) -> tuple[Verdict, str, Comparison | None]:
    """The verdict on a series of durations (oldest first), with a one-line reason."""
    baseline, recent = windows(values, settings)
    needed = min_baseline(settings)
    if len(recent) < settings.recent or len(baseline) < needed:
        reason = (
            f"{count(len(values), 'run')}: a verdict needs {settings.recent} recent runs "
            f"and at least {needed} before them"
        )
        return Verdict.INSUFFICIENT, reason, None
    found = compare(baseline, recent)
    summary = (
        f"median {fixed_seconds(found.baseline_median, 2)} -> "
        f"{fixed_seconds(found.recent_median, 2)}, "
        f"level {found.change:+.0%} ({fixed_seconds(found.delta, 2, signed=True)}) over the last "
        f"{count(found.recent_n, 'run')} against the {found.baseline_n} before"
    )
    if _beyond(found.change, found.delta, found.p_greater, settings):
        return Verdict.REGRESSION, f"{summary}; p = {found.p_greater:.2g}", found
    if _beyond(-found.change, -found.delta, found.p_less, settings):
        return Verdict.IMPROVEMENT, f"{summary}; p = {found.p_less:.2g}", found
    return Verdict.STABLE, f"{summary}; {_why_quiet(found, settings)}", found


def _beyond(change: float, delta: float, p_value: float, settings: TrendConfig) -> bool:
    return (
        change > settings.min_increase
        and delta > settings.min_seconds
        and p_value < settings.significance
    )


def _why_quiet(found: Comparison, settings: TrendConfig) -> str:
    if abs(found.change) <= settings.min_increase:
        return f"within the {settings.min_increase:.0%} threshold"
    if abs(found.delta) <= settings.min_seconds:
        return f"within the {settings.min_seconds:g}s floor"
    p_value = found.p_greater if found.delta > 0 else found.p_less
    return f"not significant (p = {p_value:.2g}, needs < {settings.significance:g})"


def _resource(metric: str, values: list[float], settings: TrendConfig) -> ResourceTrend | None:
    baseline, recent = windows(values, settings)
    if len(recent) < settings.recent or len(baseline) < min_baseline(settings):
        return None
    found = compare(baseline, recent)
    direction = "flat"
    if found.change > settings.min_increase and found.p_greater < settings.significance:
        direction = "up"
    elif -found.change > settings.min_increase and found.p_less < settings.significance:
        direction = "down"
    return ResourceTrend(metric=metric, comparison=found, direction=direction)


def _headroom(
    points: Sequence[Point], settings: TrendConfig, target: float | None, warning_ratio: float
) -> Headroom | None:
    if target is None or target <= 0 or not points:
        return None
    recent = [point.value for point in points[-settings.recent :]]
    return Headroom(
        target_s=target,
        p95_s=quantile(recent, 0.95),
        warning_ratio=warning_ratio,
        samples=len(recent),
    )


def throughput_degradation(runs: Sequence[RunRecord], settings: TrendConfig) -> list[str]:
    """The seed's rule, as a line: the latest throughput under 80% of the average before it."""
    finished = [r for r in comparable_runs(runs) if r.pool.throughput_tasks_per_s > 0]
    if len(finished) < 2:
        return []
    latest = finished[-1]
    history = finished[-(settings.recent + settings.baseline) : -1]
    average = mean([r.pool.throughput_tasks_per_s for r in history])
    current = latest.pool.throughput_tasks_per_s
    if current >= THROUGHPUT_RATIO * average:
        return []
    return [
        f"throughput degradation: run {latest.run_id} did {current:.3g} stages/s, "
        f"{current / average:.0%} of the {average:.3g} average of the {count(len(history), 'run')} "
        f"before it (reported, not failed: one run on a noisy runner is not evidence)"
    ]
