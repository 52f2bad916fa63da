"""The Gantt timeline's geometry: one row per worker, one bar per stage, targets marked.

Computed here so the template only places shapes; drawn as inline SVG so the report stays
one file that needs no script and no network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from orchestrator.model.partlabel import PartLabel
from orchestrator.model.units import seconds
from reports.view import StageRow

WIDTH = 800.0
LABEL_W = 120.0
PLOT_W = WIDTH - LABEL_W - 20.0
ROW_H = 30.0
BAR_H = 20.0
TOP = 8.0
AXIS_H = 24.0
CHAR_W = 7.0  # average glyph width at the bar font size, to decide whether a label fits
NO_WORKER = "main"


@dataclass(frozen=True)
class Bar:
    """A stage on its worker's row; `target_x` marks where its SLA target falls."""

    name: str
    status: str
    sla: str
    x: float
    y: float
    width: float
    label: str | None
    title: str
    target_x: float | None
    target_beyond: bool


@dataclass(frozen=True)
class Row:
    """A worker's row."""

    label: str
    y: float


@dataclass(frozen=True)
class Tick:
    """A time gridline."""

    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """Everything the SVG needs."""

    width: float
    height: float
    plot_x: float
    plot_right: float
    axis_y: float
    rows: tuple[Row, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]


def tick_step(span: float, most: int = 8) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most `most` ticks."""
    raw = max(span, 1e-9) / most
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _axis_end(rows: list[StageRow]) -> float:
    """Far enough for every bar, and for targets up to twice the run's length."""
    last = max(r.start_s + r.duration_s for r in rows)
    targets = [r.start_s + r.target_s for r in rows if r.target_s is not None]
    end = max([last, *(min(t, 2 * last) for t in targets)])
    return end * 1.02 if end > 0 else 1.0


def _bar(row: StageRow, y: float, scale: float, axis: float) -> Bar:
    width = max(2.0, row.duration_s * scale)
    target_x: float | None = None
    beyond = False
    if row.target_s is not None:
        beyond = row.start_s + row.target_s > axis
        target_x = LABEL_W + min(row.start_s + row.target_s, axis) * scale
    target = "" if row.target_s is None else f", target {row.target_s:g}s ({row.sla.value})"
    fits = len(row.name) * CHAR_W + 8 <= width
    return Bar(
        name=row.name,
        status=row.status.value,
        sla=row.sla.value,
        x=LABEL_W + row.start_s * scale,
        y=y,
        width=width,
        label=row.name if fits else None,
        title=f"{row.name}: {row.status.value} in {seconds(row.duration_s)}{target}",
        target_x=target_x,
        target_beyond=beyond,
    )


def _shard_of(worker: str | None) -> tuple[int, int]:
    """(K, N) of a merged run's row label ("2/3 process-1"); (0, 0) in a single run, so a
    merged timeline shows each shard's rows together, shard by shard."""
    head = (worker or "").split(" ", 1)[0]
    return PartLabel.parse(head) or (0, 0)


def _pieces(row: StageRow) -> list[StageRow]:
    """A stage's bars: the stage itself, or each part of a split stage on a row of its own
    (`unit[2/3]`, after its shard's label in a merged run); a part's bar has no target."""
    if not row.parts:
        return [row]
    return [
        replace(
            row,
            name=f"{row.name}[{label}]",
            status=status,
            start_s=start,
            duration_s=duration,
            worker=f"{shard} {row.name}[{label}]" if shard else f"{row.name}[{label}]",
            target_s=None,
            parts=(),
        )
        for label, shard, status, start, duration in row.parts
    ]


def build_timeline(stages: tuple[StageRow, ...]) -> Timeline | None:
    """The timeline of the stages that ran, or None when none did."""
    ran = [piece for row in stages if row.ran for piece in _pieces(row)]
    if not ran:
        return None
    workers: list[str] = []
    for row in sorted(ran, key=lambda r: (_shard_of(r.worker), r.start_s)):
        if (row.worker or NO_WORKER) not in workers:
            workers.append(row.worker or NO_WORKER)
    axis = _axis_end(ran)
    scale = PLOT_W / axis
    rows = tuple(Row(label=w, y=TOP + i * ROW_H) for i, w in enumerate(workers))
    y_of = {row.label: row.y + (ROW_H - BAR_H) / 2 for row in rows}
    bars = tuple(_bar(r, y_of[r.worker or NO_WORKER], scale, axis) for r in ran)
    axis_y = TOP + len(rows) * ROW_H
    step = tick_step(axis)
    ticks = tuple(
        Tick(x=LABEL_W + i * step * scale, label=f"{round(i * step, 6):g}s")
        for i in range(int(axis / step) + 1)
    )
    return Timeline(
        width=WIDTH,
        height=axis_y + AXIS_H,
        plot_x=LABEL_W,
        plot_right=LABEL_W + PLOT_W,
        axis_y=axis_y,
        rows=rows,
        bars=bars,
        ticks=ticks,
    )
