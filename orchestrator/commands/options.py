"""Options and helpers shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from orchestrator.loader import LoadedConfig, load_config

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
