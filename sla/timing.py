"""Whether a run's timing says where the time of a working run goes: the one test for it.

Speed findings (where the time went, what would save it) and the critical path are only
true of a run whose stages did their work: a run that was interrupted, stopped by its
runner, or cut short by a stage that could not start has a schedule no working run has.
Every rule that reads a run's timing asks `why_untimed` first, so a new way for a run to
end (an exit code, a status) is decided here, once.
"""

from __future__ import annotations

from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, StageRecord, StageStatus
from orchestrator.model.runs import Runs

# The run's own outcomes: its stages all ended by themselves (DESIGN's exit codes 0, 1, 3).
# Anything else (an interruption, a broken runner, a code added later) is not one.
TIMED_EXIT_CODES = frozenset({ExitCode.OK, ExitCode.STAGE_FAILED, ExitCode.SLA_CRITICAL})
# pytest's own codes for "the tests did not run": interrupted (a collection error),
# internal error, usage error.
PYTEST_DID_NOT_RUN = frozenset({2, 3, 4})
# A shell or wrapper's codes for a command it could not run.
COMMAND_NOT_RUN = frozenset({126, 127})


def why_untimed(record: RunRecord) -> str | None:
    """Why `record`'s timing says nothing about a working run (a clause), or None.

    None: the run ended by itself (exit 0, 1 or 3), no stage was cancelled or failed to
    start its work; the others passed, failed on their own findings, ran until their
    timeout, were reused from the cache, or were skipped because a need failed (the
    replay leaves those out, as the pool did).
    """
    code = record.exit_code
    if code is None:
        return "the run did not finish"
    if code not in TIMED_EXIT_CODES:
        if code in (ExitCode.SIGHUP, ExitCode.SIGINT, ExitCode.SIGTERM):
            return f"the run was interrupted (exit {code})"
        return f"the run ended with exit code {code}, not with its stages' outcome"
    for stage in record.stages:
        why = _stage_untimed(stage)
        if why is not None:
            return why
    return None


_NOT_RUN = {
    StageStatus.CANCELLED: "{name} was cancelled",
    StageStatus.ERROR: "{name} could not run",
}


def _stage_untimed(stage: StageRecord) -> str | None:
    said = _NOT_RUN.get(stage.status)
    if said is not None:
        return said.format(name=stage.name)
    if stage.status is not StageStatus.FAILED:
        return None
    if stage.exit_code in COMMAND_NOT_RUN:
        return f"{stage.name} could not run its command (exit {stage.exit_code})"
    if stage.exit_code in PYTEST_DID_NOT_RUN and stage.runs is Runs.PYTEST:
        return f"{stage.name} stopped before its tests ran (pytest exit {stage.exit_code})"
    return None
