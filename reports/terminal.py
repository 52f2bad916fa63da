"""The summary printed when a run ends: a rich table on a terminal, plain lines otherwise.

Plain text for pipes and CI logs, where colour codes and box drawing are noise (and rich
is not even loaded for them). Stage text goes through `rich.text.Text`, never markup, so a
stage named `[red]` prints as written.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, SlaStatus, StageStatus
from orchestrator.model.units import seconds
from reports.view import RunView, StageRow, build_view, memory_text, percent, target_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

STYLES = {
    StageStatus.PASSED: "green",
    StageStatus.FAILED: "bold red",
    StageStatus.TIMEOUT: "bold red",
    StageStatus.ERROR: "bold magenta",
    StageStatus.CANCELLED: "dim",
    StageStatus.SKIPPED: "dim",
}
SLA_STYLES = {SlaStatus.WARNING: "yellow", SlaStatus.BREACH: "red", SlaStatus.CRITICAL: "bold red"}
BOTTLENECKS_SHOWN = 3
COLUMNS = ("#", "stage", "status", "duration", "target", "SLA", "CPU", "peak memory")


def _cells(row: StageRow) -> tuple[str, ...]:
    return (
        str(row.number),
        row.name,
        row.status.value,
        seconds(row.duration_s) if row.ran else "—",
        target_text(row),
        row.sla.value if row.target_s is not None else "—",
        percent(row.cpu_percent),
        memory_text(row),
    )


def headline(view: RunView) -> str:
    """The run in one line."""
    r = view.record
    code = "" if r.exit_code is None else f" (exit {r.exit_code})"
    budget = "" if r.sla.budget_s is None else f" of a {r.sla.budget_s:g}s budget"
    return (
        f"workflow: {view.outcome.word}{code}; lane {r.lane}, {r.strategy} with "
        f"{r.workers} workers, {seconds(view.wall_s)}{budget}"
    )


def footer(view: RunView) -> list[str]:
    """SLA lines and the costliest bottlenecks."""
    r = view.record
    lines = [f"SLA: {line}" for line in (*r.sla.violations, *r.sla.warnings)]
    lines += [
        f"bottleneck: {b.detail} {b.recommendation}" for b in r.bottlenecks[:BOTTLENECKS_SHOWN]
    ]
    return lines


def plain_lines(view: RunView) -> list[str]:
    """The summary as aligned plain text."""
    rows = [COLUMNS, *(_cells(row) for row in view.stages)]
    widths = [max(len(cells[i]) for cells in rows) for i in range(len(COLUMNS))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
        for cells in rows
    ]
    return [headline(view), *table, *footer(view)]


def rich_table(view: RunView) -> Table:
    """The summary as a rich table, statuses coloured."""
    from rich.table import Table  # noqa: PLC0415 - rich loads for terminals only
    from rich.text import Text  # noqa: PLC0415

    table = Table(title=Text(headline(view)), title_justify="left")
    for name in COLUMNS:
        right = name in ("#", "duration", "target", "CPU", "peak memory")
        table.add_column(name, justify="right" if right else "left")
    for row in view.stages:
        cells = [Text(cell) for cell in _cells(row)]
        cells[2].stylize(STYLES[row.status])
        cells[5].stylize(SLA_STYLES.get(row.sla, ""))
        table.add_row(*cells)
    return table


def render_terminal_summary(
    record: RunRecord, console: Console, masker: Masker | None = None
) -> None:
    """Print the run's summary: a table on a terminal, plain lines in a pipe or CI log."""
    from rich.text import Text  # noqa: PLC0415 - rich loads for terminals only

    view = build_view(record, None, masker)
    if not console.is_terminal:
        for line in plain_lines(view):
            console.out(line, highlight=False)
        return
    console.print(rich_table(view))
    for line in footer(view):
        console.print(Text(line, style="yellow" if line.startswith("SLA") else ""))


def print_run_summary(
    record: RunRecord, masker: Masker | None = None, stream: TextIO | None = None
) -> None:
    """The summary on `stream` (standard output): plain lines unless it is a terminal."""
    out = stream or sys.stdout
    try:
        terminal = out.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        out.write("\n".join(plain_lines(build_view(record, None, masker))) + "\n")
        out.flush()
        return
    from rich.console import Console  # noqa: PLC0415

    render_terminal_summary(record, Console(file=out, highlight=False), masker)
