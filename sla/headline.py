"""The sentences a report leads with: what failed (the user's first job), then how long
the run took, what set it, what would help.

Read from the record alone (its wall time, `pool.critical_path`, `pool.untimed` and the
ranked bottlenecks), so `workflow report RUN.json` says the same as the run did. Every
figure in it is the record's: the critical path's seconds are its recorded span (never
more than the run), the savings are the findings'.
"""

from __future__ import annotations

from orchestrator.model.findingkinds import FindingKind
from orchestrator.model.records import Bottleneck, RunRecord, StageRecord, wall_time_s
from orchestrator.model.status import StageStatus
from orchestrator.model.units import count, seconds
from sla.bottlenecks import floor_s
from sla.chain import chain_words, path_span_s
from sla.timing import why_untimed

FAILING = (StageStatus.FAILED, StageStatus.TIMEOUT, StageStatus.ERROR)
STAGES_NAMED = 3  # failed stages named in the lead, then "and N more"
TESTS_NAMED = 2  # failed tests named per stage
ERROR_CHARS = 80

_CHANGE: dict[str, str] = {
    FindingKind.CRITICAL_PATH: "Halving {stage}",
    FindingKind.QUEUE: "Halving {stage} (the stages queued behind it move up)",
    FindingKind.NEED_WAIT: "Starting {stage} without waiting for its needs",
    FindingKind.CORE_WAIT: "One more core",
    FindingKind.WORKER_WAIT: "One more worker",
    FindingKind.SLOW_TESTS: "Running {stage}'s few slowest tests as a stage of their own",
}


def _change(finding: Bottleneck, alone: str | None) -> str:
    if finding.kind == FindingKind.CRITICAL_PATH and finding.stage == alone:
        return "Halving it"
    return _CHANGE.get(finding.kind, "Acting on {stage}").format(stage=finding.stage or "it")


def headline(record: RunRecord) -> str:
    """What failed, then the time: e.g. "Failed: unit (2 failed tests: tests/test_a.py::
    test_one, tests/test_a.py::test_two). The run took 59.0s; integration sets it (58.9s
    on the critical path). Halving it would save 21.7s; nothing else would save more than
    0.5s." ("" for no stages)."""
    failed = failure_lead(record)
    timing = time_lead(record)
    return " ".join(part for part in (failed, timing) if part)


def failure_lead(record: RunRecord) -> str:
    """ "Failed: unit (2 failed tests: a, b), lint (exited with code 1)." or ""."""
    failing = [stage for stage in record.stages if stage.status in FAILING]
    if not failing:
        return ""
    named = ", ".join(f"{stage.name} ({_why(stage)})" for stage in failing[:STAGES_NAMED])
    more = len(failing) - STAGES_NAMED
    return f"Failed: {named}" + (f" and {more} more" if more > 0 else "") + "."


def _why(stage: StageRecord) -> str:
    tests = stage.tests
    if tests is not None and tests.failed_ids:
        bad = max(tests.failed + tests.errors, len(tests.failed_ids))
        shown = ", ".join(tests.failed_ids[:TESTS_NAMED])
        rest = bad - min(TESTS_NAMED, len(tests.failed_ids))
        return f"{count(bad, 'failed test')}: {shown}" + (f" and {rest} more" if rest > 0 else "")
    if stage.status is StageStatus.TIMEOUT:
        return f"timed out after {seconds(stage.duration_s)}"
    error = " ".join((stage.error or f"exited with code {stage.exit_code}").split())
    return error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"


def time_lead(record: RunRecord) -> str:
    """E.g. "The run took 59.0s; integration sets it (58.9s on the critical path). Halving
    it would save 21.7s; nothing else would save more than 0.5s." ("" for no stages)."""
    wall = wall_time_s(record)
    if wall <= 0:
        return ""
    text = f"The run took {seconds(wall)}"
    untimed = record.pool.untimed or why_untimed(record)
    if untimed:
        return f"{text}; {untimed}, so no speed finding is made."
    path = record.pool.critical_path
    alone = path[0] if len(path) == 1 else None
    if path:
        verb = "sets" if alone else "set"
        span = seconds(path_span_s(record, path))
        words = chain_words(record, path)
        words += "," if ", then " in words else ""  # "a, then d on the same worker, set it"
        text += f"; {words} {verb} it ({span} on the critical path)"
    if record.pool.waited:
        text += f", then {', '.join(record.pool.waited)} only waited for a worker"
    least = seconds(floor_s(wall))
    saving = [b for b in record.bottlenecks if b.saving_s is not None]
    if not saving:
        return f"{text}. No single change found would save more than {least}."
    best = saving[0]
    text += f". {_change(best, alone)} would save {seconds(best.saving_s or 0.0)}; "
    if len(saving) == 1:
        return text + f"nothing else would save more than {least}."
    second = saving[1]
    change = _change(second, None)
    what = change[0].lower() + change[1:]
    return text + f"next, {what} would save {seconds(second.saving_s or 0.0)}."
