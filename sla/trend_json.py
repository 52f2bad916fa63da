"""A trend report as plain JSON-ready data: for `workflow trend --format json` and scripts."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sla.trend_model import (
    Comparison,
    GroupTrend,
    Headroom,
    ResourceTrend,
    SeriesTrend,
    SlowerTest,
    StageSlowdown,
    Step,
    TrendReport,
)

TREND_SCHEMA = 1


def _number(value: float) -> float | None:
    # JSON has no infinity: a ratio against a zero baseline has no meaningful value.
    return round(value, 6) if math.isfinite(value) else None


def _comparison(found: Comparison | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "baseline_runs": found.baseline_n,
        "recent_runs": found.recent_n,
        "baseline_median": _number(found.baseline_median),
        "recent_median": _number(found.recent_median),
        "change": _number(found.change),
        "delta": _number(found.delta),
        "p_greater": _number(found.p_greater),
        "p_less": _number(found.p_less),
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "run_id": step.run_id,
        "started_at": step.started_at,
        "index": step.index,
        "before_s": _number(step.before),
        "after_s": _number(step.after),
        "change": _number(step.change),
        "p_value": _number(step.p_value),
    }


def _resource(trend: ResourceTrend | None) -> dict[str, Any] | None:
    if trend is None:
        return None
    return {"direction": trend.direction, **(_comparison(trend.comparison) or {})}


def _headroom(headroom: Headroom | None) -> dict[str, Any] | None:
    if headroom is None:
        return None
    return {
        "target_s": _number(headroom.target_s),
        "p95_s": _number(headroom.p95_s),
        "headroom_s": _number(headroom.headroom_s),
        "used": _number(headroom.used),
        "status": headroom.status,
        "samples": headroom.samples,
    }


def series_to_dict(series: SeriesTrend) -> dict[str, Any]:
    """One series: verdict, reason, figures and every point."""
    return {
        "name": series.name,
        "whole_run": series.is_run,
        "verdict": series.verdict.value,
        "reason": series.reason,
        "comparison": _comparison(series.comparison),
        "steps": [_step(step) for step in series.steps],
        "cpu_percent": _resource(series.cpu),
        "peak_rss_bytes": _resource(series.memory),
        "sla_headroom": _headroom(series.headroom),
        "points": [
            {"run_id": p.run_id, "started_at": p.started_at, "value": _number(p.value)}
            for p in series.points
        ],
    }


def group_to_dict(group: GroupTrend) -> dict[str, Any]:
    """One lane on one runner class."""
    return {
        "lane": group.lane,
        "runner_class": group.runner_class,
        "runs": group.runs,
        "regressions": [series.name for series in group.regressions],
        "degradations": list(group.degradations),
        "series": [series_to_dict(series) for series in group.series],
    }


def slower_test_to_dict(slower: SlowerTest) -> dict[str, Any]:
    """One test's change point: the first run at the slower level and its commit range."""
    step = slower.step
    return {
        "lane": slower.lane,
        "stage": slower.stage,
        "test_id": step.test_id,
        "run_id": step.run_id,
        "commits": step.commits,
        "commit_before": step.commit_before,
        "commit_first": step.commit_first,
        "before_s": _number(step.before_s),
        "after_s": _number(step.after_s),
        "change": None if step.change is None else _number(step.change),
        "p_value": _number(step.p_value),
    }


def slowdown_to_dict(slowdown: StageSlowdown) -> dict[str, Any]:
    """A stage that got slower from a run on, and the tests that explain it."""
    return {
        "lane": slowdown.lane,
        "stage": slowdown.stage,
        "run_id": slowdown.run_id,
        "before_s": _number(slowdown.before_s),
        "after_s": _number(slowdown.after_s),
        "explained_s": _number(slowdown.explained_s),
        "tests": [
            {
                "test_id": cause.test_id,
                "new": cause.before_s is None,
                "before_s": None if cause.before_s is None else _number(cause.before_s),
                "after_s": _number(cause.after_s),
                "added_s": _number(cause.added_s),
            }
            for cause in slowdown.causes
        ],
        "new_tests": slowdown.new_tests,
        "gone_tests": slowdown.gone_tests,
    }


def report_to_dict(report: TrendReport) -> dict[str, Any]:
    """The whole report, with the settings that produced it."""
    return {
        "schema": TREND_SCHEMA,
        "settings": dataclasses.asdict(report.settings),
        "runs_read": report.runs_read,
        "regression": report.has_regression,
        "groups": [group_to_dict(group) for group in report.groups],
        "slower_tests": [slower_test_to_dict(slower) for slower in report.slower_tests],
        "stage_slowdowns": [slowdown_to_dict(slowdown) for slowdown in report.slowdowns],
    }
