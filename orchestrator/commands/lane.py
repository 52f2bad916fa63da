"""`workflow lane`: print the lane `workflow run --lane auto` would take, and why."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lanes.changes import LaneDecision
from orchestrator.commands.options import (
    change_inputs,
    change_source_options,
    config_option,
    load,
)
from orchestrator.pipeline.decide import decide


def describe(decision: LaneDecision) -> list[str]:
    """The decision as `workflow lane` prints it."""
    head = "nothing to check" if decision.lane is None else f"lane: {decision.lane.value}"
    return [head, *(f"  because {reason}" for reason in decision.reasons)]


@click.command("lane")
@change_source_options
@click.option(
    "--pre-push",
    is_flag=True,
    help="Read the refs being pushed from standard input, as git gives them to the hook.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@config_option
def command(
    base: str | None,
    head: str | None,
    changed_files: str | None,
    pre_push: bool,
    as_json: bool,
    config_path: Path | None,
) -> int:
    """Print the lane that `run --lane auto` would take, and why."""
    changes = change_inputs(base, head, changed_files, pre_push=pre_push)
    loaded = load(config_path)
    decision = decide(
        loaded,
        base=changes.base,
        head=changes.head,
        changed_files=changes.changed_files,
        push_lines=changes.push_lines,
    )
    if as_json:
        click.echo(json.dumps(decision.as_json(), indent=2))
    else:
        click.echo("\n".join(describe(decision)))
    return 0
