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
from orchestrator.model.units import aligned, count, percent, seconds
from reports.view import RunView, StageRow, build_view, divergence, memory_text, target_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

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
        row.status_text,
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
        f"{count(r.workers, 'worker')}, {seconds(view.wall_s)}{budget}"
    )


def footer(view: RunView) -> list[str]:
    """SLA lines and the costliest bottlenecks."""
    r = view.record
    lines = [f"SLA: {line}" for line in (*r.sla.violations, *r.sla.warnings)]
    for stage in r.stages:
        if stage.cache is not None and stage.cache.diverged and stage.cache.from_run:
            lines.append(f"cache divergence: {stage.name}: {divergence(stage.cache.from_run)}")
        if stage.tests is not None and stage.tests.selection is not None:
            lines.append(f"{stage.name}: {stage.tests.selection.line}")
        if stage.tests is not None and stage.tests.flaky:
            shown = ", ".join(stage.tests.flaky)
            lines.append(f"flaky: {stage.name}: {shown} (failed, then passed on a rerun)")
    lines += [
        f"bottleneck{_saves(b.saving_s)}: {b.detail} {b.recommendation}"
        for b in r.bottlenecks[:BOTTLENECKS_SHOWN]
    ]
    return lines


def _saves(saving_s: float | None) -> str:
    return "" if saving_s is None else f" (saves {seconds(saving_s)})"


def plain_lines(view: RunView) -> list[str]:
    """The summary as aligned plain text."""
    table = aligned([COLUMNS, *(_cells(row) for row in view.stages)])
    lead = [line for line in (view.broken_line, view.summary) if line]
    return [headline(view), *lead, *table, *footer(view)]


def rich_table(view: RunView) -> Table:
    """The summary as a rich table, statuses coloured."""
    table_type, text_type = _table(), _text()
    table = table_type(title=text_type(headline(view)), title_justify="left")
    for name in COLUMNS:
        right = name in ("#", "duration", "target", "CPU", "peak memory")
        table.add_column(name, justify="right" if right else "left")
    for row in view.stages:
        cells = [text_type(cell) for cell in _cells(row)]
        cells[2].stylize(STYLES[row.status])
        cells[5].stylize(SLA_STYLES.get(row.sla, ""))
        table.add_row(*cells)
    return table


def render_terminal_summary(
    record: RunRecord, console: Console, masker: Masker | None = None
) -> None:
    """Print the run's summary: a table on a terminal, plain lines in a pipe or CI log."""
    view = build_view(record, None, masker)
    if not console.is_terminal:
        for line in plain_lines(view):
            console.out(line, highlight=False)
        return
    if view.broken_line:
        console.print(_text()(view.broken_line, style="bold magenta"))
    if view.summary:
        console.print(_text()(view.summary, style="bold"))
    console.print(rich_table(view))
    for line in footer(view):
        console.print(_text()(line, style="yellow" if line.startswith("SLA") else ""))


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
    render_terminal_summary(record, _console()(file=out, highlight=False), masker)


def _console() -> type[Console]:
    # rich loads only for a terminal; a pipe or CI log gets plain lines.
    from rich.console import Console  # noqa: PLC0415 - see the comment above

    return Console


def _table() -> type[Table]:
    # rich loads only for a terminal; a pipe or CI log gets plain lines.
    from rich.table import Table  # noqa: PLC0415 - see the comment above

    return Table


def _text() -> type[Text]:
    # rich loads only for a terminal; a pipe or CI log gets plain lines.
    from rich.text import Text  # noqa: PLC0415 - see the comment above

    return Text
