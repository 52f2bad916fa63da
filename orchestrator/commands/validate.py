"""`workflow validate`: check the configuration and print every problem."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, load


@click.command("validate")
@config_option
def command(config_path: Path | None) -> int:
    """Check the configuration; print every problem (exit 2 if there is one)."""
    loaded = load(config_path)
    config = loaded.config
    stages = ", ".join(name for name, _ in config.ordered_stages())
    click.echo(f"{loaded.source}: valid; stages: {stages}.")
    return 0
