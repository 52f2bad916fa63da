"""`workflow flaky [--last N] [--json]`: tests that passed and failed on the same inputs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from orchestrator.commands.history import store_for
from orchestrator.commands.options import config_option, load
from orchestrator.history.tests import flaky_tests
from orchestrator.model.units import aligned, count

DEFAULT_LAST = 50
COLUMNS = ("STAGE", "TEST", "RUNS", "PASSED", "FAILED", "FLIPPED IN A RUN")


@click.command("flaky")
@click.option(
    "--last",
    type=click.IntRange(min=1),
    default=DEFAULT_LAST,
    show_default=True,
    metavar="N",
    help="Look at the N newest runs.",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array, one object per test.")
@config_option
def command(last: int, as_json: bool, config_path: Path | None) -> int:
    """List tests that both passed and failed with the same stage inputs, with counts.

    A stage run where most tests failed (a broken environment) is not counted.
    """
    path = store_for(load(config_path)).path
    found = flaky_tests(path, last)
    if as_json:
        click.echo(json.dumps([asdict(test) for test in found], indent=2))
    elif not found:
        click.echo(f"no flaky tests in the last {count(last, 'run')} recorded in {path}")
    else:
        rows = [COLUMNS] + [
            (t.stage, t.test_id, str(t.runs), str(t.passed), str(t.failed), str(t.flipped))
            for t in found
        ]
        click.echo("\n".join(aligned(rows)))
    return 0
