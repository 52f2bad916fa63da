"""Click commands, one module each; `registered_commands` is what the CLI adds."""

from __future__ import annotations

import importlib

import click

# Each module defines one click command (or group) named `command`.
_MODULES = ("run", "lane", "validate", "install_hook")


def registered_commands() -> list[click.Command]:
    """Every command of the `workflow` group, in help order."""
    commands: list[click.Command] = []
    for name in _MODULES:
        module = importlib.import_module(f"orchestrator.commands.{name}")
        command = module.command
        if not isinstance(command, click.Command):
            raise TypeError(f"orchestrator.commands.{name}.command is not a click command")
        commands.append(command)
    return commands
