"""`workflow shard plan`: cut the lane into N shards for a CI matrix, balanced by history."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orchestrator.commands.options import (
    change_inputs,
    change_source_options,
    config_option,
    path_type,
)
from orchestrator.model.config import Lane
from orchestrator.model.errors import UsageError
from orchestrator.model.files import write_atomic
from orchestrator.model.shardplan import slim
from orchestrator.model.writes import reason
from orchestrator.pipeline.prepare import RunOptions
from orchestrator.pipeline.shards import plan_data, shard_plan


@click.group("shard")
def command() -> None:
    """Split a lane's stages across CI runners."""


@command.command("plan")
@click.option("--shards", type=click.IntRange(min=1), required=True, help="How many shards.")
@click.option("--lane", type=click.Choice(["auto", *(lane.value for lane in Lane)]), default="auto")
@change_source_options
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the GitHub Actions matrix JSON.")
@click.option(
    "-o",
    "--output",
    type=path_type(dir_okay=False),
    default=None,
    help="Write the plan (with split plans) to this file, for `run --shard K/N --plan FILE`.",
)
def plan(  # noqa: PLR0913 - click passes every option as a keyword
    shards: int,
    lane: str,
    base: str | None,
    head: str | None,
    changed_files: str | None,
    config_path: Path | None,
    as_json: bool,
    output: Path | None,
) -> int:
    """Print the shards (`--json`: the matrix `{"include": [...]}` on one line).

    Each shard lists its stages and predicted seconds; `workflow run --shard K/N` runs
    one of them. With `--output FILE` the whole plan goes to FILE and `--json` prints the
    matrix without its split plans: a job output to fan the shards out, while the file
    travels as an artifact. Nothing to check: one shard per runner with no stages (GitHub
    refuses an empty matrix). Exit 2 for a bad option or configuration.
    """
    changes = change_inputs(base, head, changed_files, pre_push=False)
    options = RunOptions(
        lane=None if lane == "auto" else Lane(lane),
        base=changes.base,
        head=changes.head,
        changed_files=changes.changed_files,
        config_path=config_path,
    )
    planned = shard_plan(options, shards, warn=lambda text: click.echo(text, err=True))
    data = plan_data(planned, shards)
    if output is not None:
        try:
            write_atomic(output, json.dumps(data) + "\n")
        except OSError as exc:
            raise UsageError(f"--output: cannot write {output}: {reason(exc)}.") from exc
    if as_json:
        click.echo(json.dumps(slim(data) if output is not None else data))
        return 0
    if planned.lane is None:
        click.echo("workflow: nothing to check")
        click.echo("\n".join(f"  because {why}" for why in planned.reasons))
        return 0
    click.echo(f"lane: {planned.lane.value}, {shards} shards")
    for shard in planned.shards:
        stages = ", ".join(shard.stages) or "(none)"
        click.echo(f"  {shard.label}: {shard.predicted_s:g}s predicted: {stages}")
    return 0
