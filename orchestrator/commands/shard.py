"""`workflow shard plan`: cut the lane into N shards for a CI matrix, balanced by history."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orchestrator.commands.options import change_inputs, change_source_options, config_option
from orchestrator.model.config import Lane
from orchestrator.model.shardplan import matrix
from orchestrator.pipeline.prepare import RunOptions
from orchestrator.pipeline.shards import shard_plan


@click.group("shard")
def command() -> None:
    """Split a lane's stages across CI runners."""


@command.command("plan")
@click.option("--shards", type=click.IntRange(min=1), required=True, help="How many shards.")
@click.option("--lane", type=click.Choice(["auto", *(lane.value for lane in Lane)]), default="auto")
@change_source_options
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the GitHub Actions matrix JSON.")
def plan(  # noqa: PLR0913 - click passes every option as a keyword
    shards: int,
    lane: str,
    base: str | None,
    head: str | None,
    changed_files: str | None,
    config_path: Path | None,
    as_json: bool,
) -> int:
    """Print the shards (`--json`: the matrix `{"include": [...]}` on one line).

    Each shard lists its stages and predicted seconds; `workflow run --shard K/N` runs
    one of them. Exit 2 for a bad option or configuration.
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
    if planned.lane is None:
        if as_json:
            click.echo(json.dumps({"include": []}))
        else:
            click.echo("workflow: nothing to check")
            click.echo("\n".join(f"  because {reason}" for reason in planned.reasons))
        return 0
    if as_json:
        click.echo(json.dumps(matrix(planned.shards, planned.lane.value, planned.splits)))
        return 0
    click.echo(f"lane: {planned.lane.value}, {shards} shards")
    for shard in planned.shards:
        stages = ", ".join(shard.stages) or "(none)"
        click.echo(f"  {shard.label}: {shard.predicted_s:g}s predicted: {stages}")
    return 0
