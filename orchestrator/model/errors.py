"""One exception family for user-facing failures; each carries its exit code.

The CLI is the single place that catches these and turns them into a message and an
exit code (DESIGN.md's table), so the core never prints or exits.
"""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes of every `workflow` command."""

    OK = 0
    STAGE_FAILED = 1
    USAGE = 2
    SLA_CRITICAL = 3
    REGRESSION = 4
    SIGINT = 130
    SIGTERM = 143


class WorkflowError(Exception):
    """A failure the user can act on; its message is one sentence, shown without traceback."""

    exit_code: ExitCode = ExitCode.STAGE_FAILED

    def __init__(self, message: str, *, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def lines(self) -> list[str]:
        """The message followed by one line per detail (e.g. every config problem)."""
        return [self.message, *self.details]


class UsageError(WorkflowError):
    """A bad command-line argument: nothing was run."""

    exit_code = ExitCode.USAGE


class ConfigError(WorkflowError):
    """A configuration file that cannot be used: nothing was run."""

    exit_code = ExitCode.USAGE


class RecordError(WorkflowError):
    """A saved run record that cannot be read."""

    exit_code = ExitCode.USAGE


class InternalError(WorkflowError):
    """workflow itself failed mid-run; the stages were ended and the record written."""


class Interrupted(WorkflowError):
    """The run was stopped by a signal; the exit code tells which."""

    def __init__(self, signum: int) -> None:
        code = ExitCode.SIGTERM if signum == signal.SIGTERM else ExitCode.SIGINT
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.exit_code = code
