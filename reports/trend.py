"""The trend report: HTML with one line chart per stage, markdown for the job summary, JSON.

The HTML page is self-contained (inline CSS and SVG, no script, no network) and jinja2
autoescapes every value: stage names and runner labels come from files anyone can edit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.model.units import count as plural
from orchestrator.model.units import markdown_row, seconds, size
from orchestrator.model.version import __version__
from reports.templating import environment
from sla.trend_json import report_to_dict
from sla.trend_model import GroupTrend, SeriesTrend, TrendReport, Verdict

WIDTH, HEIGHT = 640, 220
TARGET_SPAN = 3.0  # draw the target to scale when it is within this multiple of the slowest run
CHART_POINTS = 100  # the newest runs drawn; the analysis itself reads every run
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 30

_ENV = environment()


@dataclass(frozen=True)
class Dot:
    """One run on a chart."""

    x: float
    y: float
    run_id: str
    label: str
    regressed: bool


@dataclass(frozen=True)
class Chart:
    """An SVG line chart's geometry, computed here so the template only draws."""

    series: SeriesTrend
    line: str  # the polyline's points
    dots: tuple[Dot, ...]
    target_y: float | None
    target_label: str
    ticks: tuple[tuple[float, str], ...]  # (y, label)
    steps: tuple[tuple[float, str], ...]  # (x, title)
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    axis_y: int = HEIGHT - BOTTOM


TICKS = (0.0, 0.5, 1.0)  # shares of the chart's top


def axis_labels(values: list[float]) -> list[str]:
    """Seconds for an axis, with as many decimals as it takes for distinct values to read
    differently (0.05s, 0.1s rather than 0.1s, 0.1s); at most three."""
    for decimals in range(1, 4):
        labels = [f"{value:.{decimals}f}".rstrip("0").rstrip(".") + "s" for value in values]
        if len(set(labels)) == len(set(values)):
            return labels
    return labels


def build_chart(series: SeriesTrend) -> Chart:
    """Duration over runs, the SLA target as a dashed line, the judged runs marked."""
    shown = series.points[-CHART_POINTS:]
    hidden = len(series.points) - len(shown)
    values = [point.value for point in shown]
    target = series.headroom.target_s if series.headroom is not None else None
    highest = max([*values, 1e-9])
    # A target far above every run would flatten the line; it is then pinned to the top.
    beyond = target is not None and target > TARGET_SPAN * highest
    top = highest * 1.1 if beyond or target is None else max(highest, target) * 1.1
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM

    def x_at(index: int) -> float:
        return LEFT + span_x * (index + 0.5) / max(len(values), 1)

    def y_at(value: float) -> float:
        return TOP + span_y * (1 - value / top)

    judged = {point.run_id for point in series.judged}
    regressed = series.verdict is Verdict.REGRESSION
    dots = tuple(
        Dot(
            x_at(i),
            y_at(p.value),
            p.run_id,
            f"{p.run_id}: {seconds(p.value)}",
            regressed and p.run_id in judged,
        )
        for i, p in enumerate(shown)
    )
    return Chart(
        series=series,
        line=" ".join(f"{dot.x:.1f},{dot.y:.1f}" for dot in dots),
        dots=dots,
        target_y=None if target is None else y_at(min(target, top)),
        target_label="" if target is None else f"SLA {target:g}s" + (" ↑" if beyond else ""),
        ticks=tuple(
            zip(
                (y_at(top * f) for f in TICKS),
                axis_labels([top * f for f in TICKS]),
                strict=True,
            )
        ),
        steps=tuple(
            (
                x_at(step.index - hidden) - span_x / max(len(values), 1) / 2,
                f"level {step.change:+.0%} from run {step.run_id}: "
                f"{seconds(step.before)} -> {seconds(step.after)}",
            )
            for step in series.steps
            if step.index > hidden
        ),
    )


def describe(series: SeriesTrend) -> list[str]:
    """The findings about one series beyond its verdict, one line each."""
    lines = [
        f"level shift {step.change:+.0%} from run {step.run_id}: "
        f"{seconds(step.before)} -> {seconds(step.after)} (p = {step.p_value:.2g})"
        for step in series.steps
    ]
    if series.cpu is not None and series.cpu.direction != "flat":
        found = series.cpu.comparison
        lines.append(
            f"CPU {found.baseline_median:.0f}% -> {found.recent_median:.0f}% "
            f"({series.cpu.direction})"
        )
    if series.memory is not None and series.memory.direction != "flat":
        found = series.memory.comparison
        lines.append(
            f"peak memory {size(found.baseline_median)} -> {size(found.recent_median)} "
            f"({'grew' if series.memory.direction == 'up' else 'shrank'})"
        )
    return lines


def headroom_text(series: SeriesTrend) -> str:
    """p95 against the target, or a dash when the series has no target."""
    room = series.headroom
    if room is None:
        return "—"
    return f"{seconds(room.p95_s)} / {room.target_s:g}s ({room.used:.0%}, {room.status})"


_ENV.globals.update(describe=describe, headroom=headroom_text, seconds=seconds)


def render_trend_html(report: TrendReport) -> str:
    """The self-contained page."""
    charts = {
        (group.lane, group.runner_class): [build_chart(s) for s in group.series]
        for group in report.groups
    }
    count = sum(len(group.regressions) for group in report.groups)
    return _ENV.get_template("trend.html.j2").render(
        report=report, charts=charts, regressions=count, version=__version__
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_group(group: GroupTrend) -> list[str]:
    lines = [
        f"### {group.lane} lane, {plural(group.runs, 'run')}",
        "",
        f"Runner class: `{group.runner_class or 'unknown'}`",
        "",
        "| series | verdict | median before → recent | level | p | p95 / SLA |",
        "|---|---|---|---|---|---|",
    ]
    for series in group.series:
        found = series.comparison
        verdict = series.verdict.value
        if series.verdict is Verdict.REGRESSION:
            verdict = f"**{verdict}**"
        medians = level = p_value = "—"
        if found is not None:
            medians = f"{seconds(found.baseline_median)} → {seconds(found.recent_median)}"
            level = f"{found.change:+.0%}"
            p_value = f"{min(found.p_greater, found.p_less):.2g}"
        cells = [series.name, verdict, medians, level, p_value, headroom_text(series)]
        lines.append(markdown_row([_cell(c) for c in cells]))
    notes = [f"- {s.name}: {line}" for s in group.series for line in describe(s)]
    notes += [f"- {line}" for line in group.degradations]
    notes += [f"- {s.name}: {s.reason}" for s in group.series if s.verdict is Verdict.INSUFFICIENT]
    return [*lines, *(["", *notes] if notes else []), ""]


def render_trend_markdown(report: TrendReport) -> str:
    """Markdown for the GitHub job summary."""
    count = sum(len(group.regressions) for group in report.groups)
    head = plural(count, "regression") if count else "no regression"
    lines = [f"## workflow trend: {head}", ""]
    if not report.groups:
        lines += ["No runs recorded yet.", ""]
    for group in report.groups:
        lines += _markdown_group(group)
    if report.slowdowns:
        lines += ["### Why stages got slower", ""]
        lines += [f"- {_cell(slowdown.line())}" for slowdown in report.slowdowns]
        lines.append("")
    if report.slower_tests:
        lines += ["### Tests that got slower", ""]
        lines += [f"- {_cell(slower.line())}" for slower in report.slower_tests]
        lines.append("")
    settings = report.settings
    lines.append(
        f"_Judged: the last {settings.recent} runs against up to {settings.baseline} before "
        f"them; a regression needs a level over +{settings.min_increase:.0%} and "
        f"+{settings.min_seconds:g}s with p < {settings.significance:g}._"
    )
    return "\n".join(lines) + "\n"


def render_trend_json(report: TrendReport) -> str:
    """The report as JSON."""
    return json.dumps(report_to_dict(report), indent=2, allow_nan=False) + "\n"


TREND_RENDERERS: dict[str, Callable[[TrendReport], str]] = {
    "html": render_trend_html,
    "md": render_trend_markdown,
    "json": render_trend_json,
}
