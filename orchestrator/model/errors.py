"""One exception family for user-facing failures; each carries its exit code.

The CLI is the single place that catches these and turns them into a message and an
exit code (DESIGN.md's table), so the core never prints or exits.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes of every `workflow` command."""

    OK = 0
    STAGE_FAILED = 1
    USAGE = 2
    SLA_CRITICAL = 3
    REGRESSION = 4
    RUNNER_BROKEN = 5
    SIGHUP = 129
    SIGINT = 130
    SIGTERM = 143


# Worse outcomes rank higher: a pass, an SLA breach, a failure, a usage error, a broken
# runner (the checks did not all run: retry), SIGHUP, SIGTERM, SIGINT.
_RANK = {0: 0, 3: 1, 1: 2, 2: 3, 5: 4, 129: 5, 143: 6, 130: 7}


def worst_exit_code(codes: Iterable[int]) -> int:
    """The worst of several runs' exit codes (shards merged, the commits of one push): the
    one to exit with. An unknown code ranks as a failure."""
    return max(codes, key=lambda code: (_RANK.get(code, _RANK[1]), code), default=0)


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

    def naming(self, option: str) -> WorkflowError:
        """The same error led by the command-line option at fault (`--only: ...`).

        The core never knows how its inputs were spelled on a command line; the command
        that passed them adds the option's name this way.
        """
        named = type(self).__new__(type(self))  # the same class, so the same exit code
        named.__dict__.update(self.__dict__)
        named.message = f"{option}: {self.message}"
        named.args = (named.message,)
        return named


class UsageError(WorkflowError):
    """A bad command-line argument: nothing was run."""

    exit_code = ExitCode.USAGE


class UnknownStageError(UsageError):
    """A stage selected by name that the configuration does not define."""


class ReportsDirError(UsageError):
    """A reports directory that cannot be created: nothing was run."""


class ConfigError(WorkflowError):
    """A configuration file that cannot be used: nothing was run."""

    exit_code = ExitCode.USAGE


class RecordError(WorkflowError):
    """A saved run record that cannot be read."""

    exit_code = ExitCode.USAGE


class InternalError(WorkflowError):
    """workflow itself failed mid-run; the stages were ended and the record written."""


class RunnerBrokenError(WorkflowError):
    """The system refused workflow a resource it cannot run without (DESIGN "A broken
    runner"): retry elsewhere."""

    exit_code = ExitCode.RUNNER_BROKEN


class Interrupted(WorkflowError):
    """The run was stopped by a signal; the exit code tells which."""

    def __init__(self, signum: int) -> None:
        code = signal_exit_code(signum)
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.exit_code = code


def signal_exit_code(signum: int) -> ExitCode:
    """128 + the signal's number for the signals a run handles: SIGHUP 129, SIGINT 130,
    SIGTERM 143 (anything else is taken as an interrupt, 130)."""
    codes: dict[int, ExitCode] = {signal.SIGHUP: ExitCode.SIGHUP, signal.SIGTERM: ExitCode.SIGTERM}
    # Looked up by number: a real-time signal (34-64) has no `signal.Signals` member.
    return codes.get(signum, ExitCode.SIGINT)


def signal_name(signum: int) -> str:
    """A signal's name for a message: "SIGKILL", "SIGRTMIN+6" for a real-time signal that
    has no name of its own, "signal 99" for a number this system does not know."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        pass
    low, high = getattr(signal, "SIGRTMIN", 0), getattr(signal, "SIGRTMAX", -1)
    if low < signum <= high:
        return f"SIGRTMIN+{signum - low}"
    return f"signal {signum}"
