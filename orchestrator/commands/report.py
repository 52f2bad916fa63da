"""`workflow report RUN.json`: render a report from a saved run record."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, configured_masker, path_type
from orchestrator.model.errors import UsageError
from orchestrator.model.files import write_atomic
from orchestrator.model.records import read_record
from orchestrator.model.reportformats import FILE_NAMES, RENDERED_FROM_RECORD
from orchestrator.model.writes import reason
from reports import RENDERERS


@click.command("report")
@click.argument("run_json", metavar="RUN.json", type=path_type(dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(RENDERED_FROM_RECORD), default="html", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=path_type(dir_okay=False, allow_dash=True),
    default=None,
    help="Where to write it; '-' for standard output (default: beside RUN.json).",
)
@config_option
def command(run_json: Path, fmt: str, output: Path | None, config_path: Path | None) -> int:
    """Render a report (html, md or junit) from a saved run record."""
    record = read_record(run_json)
    masker = configured_masker(config_path)
    text = RENDERERS[fmt](record, run_json.parent, masker=masker)
    if output == Path("-"):
        click.echo(text, nl=False)
        return 0
    target = output if output is not None else run_json.parent / FILE_NAMES[fmt]
    if target.resolve() == run_json.resolve():
        raise UsageError(f"-o: {target} is the run record itself; choose another path.")
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise UsageError(f"-o: cannot write {target}: {reason(exc)}.") from exc
    click.echo(str(target))
    return 0
