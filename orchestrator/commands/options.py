"""Options and helpers shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from orchestrator.configfile.load import LoadedConfig, load_config

F = TypeVar("F", bound=Callable[..., object])


def config_option(func: F) -> F:
    """`--config PATH`: default workflow.toml in the current directory, then pyproject.toml."""
    decorated: F = click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Configuration file (default: ./workflow.toml, then pyproject.toml).",
    )(func)
    return decorated


def load(config_path: Path | None) -> LoadedConfig:
    """Load the configuration named on the command line, or the default one."""
    return load_config(config_path)


def change_source_options(func: F) -> F:
    """`--base`, `--head` and `--changed-files`: where the lane's change set comes from."""
    for option in reversed(
        (
            click.option("--base", default=None, metavar="REF", help="Compare with this commit."),
            click.option(
                "--head",
                default=None,
                metavar="REF",
                help="The commit being checked (default HEAD).",
            ),
            click.option(
                "--changed-files",
                default=None,
                metavar="FILE|-",
                help="A list of changed paths, one per line, instead of asking git.",
            ),
        )
    ):
        func = option(func)
    return func
