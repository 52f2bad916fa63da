"""`workflow trend`: stage-duration trends over history, with the regressions found."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.history import store_for
from orchestrator.commands.options import config_option, load, path_type
from orchestrator.history.tests import passed_durations, tested_stages
from orchestrator.model.errors import ExitCode, UsageError
from orchestrator.model.files import write_atomic
from orchestrator.model.writes import reason
from reports.trend import TREND_RENDERERS
from sla.testtrends import with_test_trends
from sla.trends import analyse


@click.command("trend")
@click.option(
    "--last",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Read only the N newest runs (default: all).",
)
@click.option(
    "--format", "fmt", type=click.Choice(sorted(TREND_RENDERERS)), default="md", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=path_type(dir_okay=False, allow_dash=True),
    default=None,
    help="Where to write the report (default: standard output).",
)
@click.option("--fail-on-regression", is_flag=True, help="Exit 4 when any series regressed.")
@config_option
def command(
    last: int | None,
    fmt: str,
    output: Path | None,
    fail_on_regression: bool,
    config_path: Path | None,
) -> int:
    """Judge each stage's recent durations against its history (same lane and runner class)."""
    loaded = load(config_path)
    store = store_for(loaded)
    settings = loaded.config.trend
    rows = {pair: passed_durations(store.path, *pair) for pair in tested_stages(store.path)}
    report = with_test_trends(analyse(store.runs(last), settings), rows)
    text = TREND_RENDERERS[fmt](report)
    if output is None or output == Path("-"):
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, text)
        except OSError as exc:
            raise UsageError(f"-o: cannot write {output}: {reason(exc)}.") from exc
        click.echo(f"trend report: {output}")
    if not report.groups:
        click.echo(f"workflow: no runs recorded in {store.path} yet.", err=True)
    for group in report.groups:
        for series in group.regressions:
            click.echo(
                f"workflow: regression: {group.lane} {series.name}: {series.reason}", err=True
            )
    for slowdown in report.slowdowns:
        click.echo(f"workflow: stage slower: {slowdown.line()}", err=True)
    for slower in report.slower_tests:
        click.echo(f"workflow: test slower: {slower.line()}", err=True)
    if fail_on_regression and report.has_regression:
        return int(ExitCode.REGRESSION)
    return 0
