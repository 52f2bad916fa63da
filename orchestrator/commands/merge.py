"""`workflow merge`: one record, verdict, report set and history entry from a lane's shards."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, load, parse_formats
from orchestrator.model.errors import ReportsDirError
from orchestrator.model.reportformats import DEFAULT_FORMATS
from orchestrator.model.units import fixed_seconds
from orchestrator.pipeline.merge import merge_shards


@click.command("merge")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@config_option
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--format", "formats", default=DEFAULT_FORMATS, show_default=True)
def command(
    paths: tuple[Path, ...], config_path: Path | None, report_dir: Path | None, formats: str
) -> int:
    """Merge the shards' run directories (or run.json files) into one run.

    Exit code: the worst of the shards' (a missing shard counts as failed), raised to 3
    by a critical SLA breach of the merged run; 2 for records that cannot be merged.
    """
    loaded = load(config_path)
    try:
        merged = merge_shards(paths, loaded, report_dir, parse_formats(formats))
    except ReportsDirError as exc:
        if report_dir is None:
            raise
        raise exc.naming("--report-dir") from exc
    record = merged.record
    for run in record.shards:
        if run.run_id is None:
            outcome = "no record given (counted as failed)"
        else:
            outcome = (
                f"exit {run.exit_code}, {fixed_seconds(run.duration_s)}: {', '.join(run.stages)}"
            )
        click.echo(f"shard {run.shard}: {outcome}")
    failed = [s for s in record.stages if not s.status.ok]
    for stage in failed:
        error = f": {stage.error}" if stage.error else ""
        click.echo(f"failed: {stage.name} ({stage.status.value}){error}", err=True)
    click.echo(
        f"workflow: merged {sum(1 for run in record.shards if run.run_id)} of "
        f"{len(record.shards)} shards (exit {record.exit_code}); "
        f"lane {record.lane}, {fixed_seconds(record.pool.total_duration_s)} wall "
        "(the longest shard)"
    )
    for warning in merged.warnings:
        click.echo(f"workflow: warning: {warning}", err=True)
    click.echo(f"reports: {merged.run_dir}")
    return record.exit_code if record.exit_code is not None else 1
