"""Click commands, one module each, imported only when used."""

from __future__ import annotations

import importlib

import click

# Each module defines one click command (or group) named `command`.
_MODULES = (
    "run",
    "lane",
    "validate",
    "init",
    "report",
    "install_hook",
    "history",
    "trend",
    "profile",
    "cache",
    "shard",
    "merge",
    "flaky",
    "select",
)


def command_names() -> list[str]:
    """The commands' names as typed (`install_hook` is `install-hook`), in help order."""
    return [name.replace("_", "-") for name in _MODULES]


def load_command(name: str) -> click.Command | None:
    """Import one command's module only when that command is used (start-up time)."""
    module_name = name.replace("-", "_")
    if module_name not in _MODULES:
        return None
    module = importlib.import_module(f"orchestrator.commands.{module_name}")
    command = module.command
    if not isinstance(command, click.Command):
        raise TypeError(f"orchestrator.commands.{module_name}.command is not a click command")
    return command
