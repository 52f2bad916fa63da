"""`workflow validate`: check the configuration and print every problem."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, load
from orchestrator.model.units import count
from orchestrator.pipeline.validation import command_warnings


@click.command("validate")
@config_option
def command(config_path: Path | None) -> int:
    """Check the configuration; print every problem (exit 2 if there is one) and warn
    about commands that cannot be found."""
    loaded = load(config_path)
    config = loaded.config
    stages = ", ".join(name for name, _ in config.ordered_stages())
    warnings = command_warnings(loaded)
    also = f", with {count(len(warnings), 'warning')}" if warnings else ""
    click.echo(f"{loaded.source}: valid{also}; stages: {stages}.")
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    return 0
