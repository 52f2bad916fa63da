"""What a stage runs, decided once from its configuration and kept in its record.

A command, pytest (which gets a JUnit file, reruns of failed tests and parts) or a
Python callable: the engine, the SLA rules and the reports ask this fact instead of
reading a (masked) command line back.
"""

from __future__ import annotations

import shlex
from enum import StrEnum

from orchestrator.model.pytestargv import is_pytest


class Runs(StrEnum):
    """What a stage runs (the record's `runs`)."""

    COMMAND = "command"
    PYTEST = "pytest"
    CALLABLE = "callable"


def runs_of(argv: tuple[str, ...] | None) -> Runs:
    """A stage's `run` argv (None: it has a `call` instead) -> what it runs."""
    if argv is None:
        return Runs.CALLABLE
    return Runs.PYTEST if is_pytest(argv) else Runs.COMMAND


def runs_of_display(command: str) -> Runs:
    """What a record written before `runs` existed ran, from its displayed `command`
    ("call pkg.module:function" for a callable). Only for reading such records."""
    if command.startswith("call "):
        return Runs.CALLABLE
    try:
        return runs_of(tuple(shlex.split(command)))
    except ValueError:  # unbalanced quotes: it was no pytest argv workflow wrote
        return Runs.COMMAND
