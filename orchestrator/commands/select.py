"""`workflow select explain STAGE [TEST]`."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, load
from orchestrator.pipeline.selectexplain import explain_selection


@click.group("select")
def command() -> None:
    """Test selection: only the tests a change can affect run."""


@command.command("explain")
@click.argument("stage")
@click.argument("test", required=False)
@config_option
def explain(stage: str, test: str | None, config_path: Path | None) -> int:
    """Say which tests of STAGE would run now and why, or why TEST would run or be
    skipped, naming the changed piece."""
    click.echo("\n".join(explain_selection(load(config_path), stage, test)))
    return 0
