"""`workflow history`: list recorded runs; `workflow history import RUN.json...` adds saved ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from orchestrator.commands.options import config_option, load, path_type
from orchestrator.configfile.load import LoadedConfig
from orchestrator.history.store import HistoryStore
from orchestrator.model.errors import RecordError, UsageError
from orchestrator.model.masking import mask_fields, run_masker
from orchestrator.model.records import RunRecord, read_record
from orchestrator.model.run_order import started_at_problem
from orchestrator.model.units import aligned, seconds

COLUMNS = ("RUN ID", "STARTED", "LANE", "EXIT", "DURATION", "COMMIT", "BRANCH")


def store_for(loaded: LoadedConfig) -> HistoryStore:
    """The configured history, or a usage error naming the key that turned it off."""
    path = loaded.history_file
    if path is None:
        raise UsageError(
            f"{loaded.source}: {loaded.key_prefix}workflow.history is empty, "
            "so history is turned off."
        )
    return HistoryStore(path)


def run_summary(record: RunRecord) -> dict[str, Any]:
    """One run as `history --json` prints it."""
    return {
        "run_id": record.run_id,
        "started_at": record.started_at,
        "lane": record.lane,
        "exit_code": record.exit_code,
        "duration_s": record.pool.total_duration_s,
        "git_sha": record.git.sha,
        "git_branch": record.git.branch,
        "strategy": record.strategy,
        "workers": record.workers,
        "runner_class": record.host.runner_class,
        "finished": record.finished,
        "stages": len(record.stages),
        "passed": sum(1 for stage in record.stages if stage.status.ok),
    }


def table(records: list[RunRecord]) -> list[str]:
    """Aligned columns, one run per line, newest first."""
    rows = [COLUMNS] + [
        (
            r.run_id,
            r.started_at,
            r.lane,
            "-" if r.exit_code is None else str(r.exit_code),
            seconds(r.pool.total_duration_s),
            (r.git.sha or "-")[:10],
            r.git.branch or "-",
        )
        for r in records
    ]
    return aligned(rows)


@click.group("history", invoke_without_command=True)
@click.option(
    "--last", type=click.IntRange(min=1), default=None, metavar="N", help="Only the N newest runs."
)
@click.option(
    "--json", "as_json", is_flag=True, help="A JSON array, one object per run, newest first."
)
@config_option
@click.pass_context
def command(ctx: click.Context, last: int | None, as_json: bool, config_path: Path | None) -> int:
    """List recorded runs, newest first (`history import RUN.json...` adds saved records)."""
    if ctx.invoked_subcommand is not None:
        return 0
    store = store_for(load(config_path))
    records = store.runs(last)
    if as_json:
        click.echo(json.dumps([run_summary(r) for r in records], indent=2))
    elif not records:
        click.echo(f"no runs recorded in {store.path}")
    else:
        click.echo("\n".join(table(records)))
    return 0


@command.command("import")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    metavar="RUN.json...",
    type=path_type(dir_okay=False),
)
@config_option
@click.pass_context
def import_command(ctx: click.Context, paths: tuple[Path, ...], config_path: Path | None) -> int:
    """Add saved run records (from CI jobs) to the history; a run already there is replaced.

    The count says how many runs are new and how many replaced one already recorded (a
    file given twice is one run).
    """
    parent = ctx.parent.params.get("config_path") if ctx.parent is not None else None
    loaded = load(config_path or parent)
    store = store_for(loaded)
    # A record from elsewhere may hold a secret of this environment or of a stage's env.
    masker = run_masker(stage.env for stage in loaded.config.stages.values())
    records = [mask_fields(_importable(path), masker) for path in paths]  # all valid first
    replaced = store.recorded(r.run_id for r in records)
    store.record_runs(records)  # in the order given: that breaks ties in start time
    added = len({r.run_id for r in records}) - len(replaced)
    noun = "run" if added == 1 else "runs"
    note = f" ({len(replaced)} already recorded, replaced)" if replaced else ""
    click.echo(f"imported {added} new {noun} into {store.path}{note}")
    return 0


def _importable(path: Path) -> RunRecord:
    """A saved record whose `started_at` can place it in the history's order."""
    record = read_record(path)
    problem = started_at_problem(record.started_at)
    if problem is not None:
        raise RecordError(f"{path}: started_at: {problem}.")
    return record
