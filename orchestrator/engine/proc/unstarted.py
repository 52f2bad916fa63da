"""A stage whose process could not be started: why, in one line, and whose fault it is.

The kernel's answer to exec names the reason (`ENOENT`: the command or its `#!`
interpreter is missing; `EACCES`: not executable); `engine/proc/breaker.spawn_cause` says
whether it is the stage's own or the runner's, and a runner's reason is counted by the
run's breaker (three stages for the same reason stop the run, exit 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.proc.breaker import Breaker, spawn_cause
from orchestrator.engine.spec import Attempt, StageSpec
from orchestrator.engine.toolpath import not_found_reason, resolve_executable
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus

NOT_FOUND_EXIT = 127  # as a shell says a command is missing
NOT_EXECUTABLE_EXIT = 126  # as a shell says a command cannot run


class Refused(NamedTuple):
    """A stage whose process could not be started: what it ran, and what exec said."""

    spec: StageSpec
    argv: tuple[str, ...]
    env: Mapping[str, str]
    exc: OSError | ValueError


def message_for(refused: Refused) -> tuple[str, int]:
    """The one-line error and the shell's exit code for it (127 missing, else 126)."""
    spec, argv, env, exc = refused
    cwd = spec.cwd or Path.cwd()
    if isinstance(exc, FileNotFoundError):
        return not_found_reason(argv[0], cwd, env), NOT_FOUND_EXIT
    if isinstance(exc, PermissionError):
        return f"command not executable: {argv[0]}", NOT_EXECUTABLE_EXIT
    if isinstance(exc, ValueError):  # a NUL in argv or env, or a bad variable name
        return f"cannot start {argv[0]!r}: {exc}", NOT_EXECUTABLE_EXIT
    return f"cannot start {argv[0]}: {exc.strerror}", NOT_EXECUTABLE_EXIT


def not_started(refused: Refused, own: Sequence[Path], masker: Masker, breaker: Breaker) -> Attempt:
    """The attempt of a stage that never started (`error` masked: argv[0] may hold a
    secret); a runner's reason goes to `breaker` and into `runner_fault`.

    `own` are the stage's own directories (its working directory, its project): a file
    there that cannot run is the stage's to fix.
    """
    message, code = message_for(refused)
    cwd = refused.spec.cwd or Path.cwd()
    found = resolve_executable(refused.argv[0], refused.env, cwd)
    cause = spawn_cause(refused.exc, Path(found) if found else None, own)
    message = masker.mask(message)
    if cause is None:
        return Attempt(StageStatus.ERROR, code, 0.0, error=message)
    breaker.cannot_start(refused.spec.name, cause)
    return Attempt(StageStatus.ERROR, code, 0.0, error=message, runner_fault=cause)
