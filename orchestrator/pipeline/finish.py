"""After the stages: the SLA verdict, bottlenecks, the final exit code, reports, history.

The SLA can only raise a passing run to exit 3; failures (1) and interruptions
(129/130/143) keep their codes. A report or history that cannot be written never changes
the run's outcome: it is said (in the run's warnings), and the run's own exit code stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from orchestrator.history.store import record_safely
from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, write_record
from orchestrator.pipeline.recorder import RECORD_NAME
from orchestrator.pipeline.run import RunRequest, RunStart
from reports import write_reports
from reports.html import prepare, template_cache_failure
from sla.bottlenecks import attach_bottlenecks
from sla.verdict import apply_sla


class HistoryTarget(NamedTuple):
    """Where to record the run (None: nowhere) and who hears that recording waits."""

    path: Path | None
    on_wait: Callable[[str], None] | None = None


NO_HISTORY = HistoryTarget(None)


@dataclass(frozen=True)
class Finished:
    """The judged record, the report files written, and problems worth a warning."""

    record: RunRecord
    reports: tuple[Path, ...]
    warnings: tuple[str, ...]


def final_exit_code(record: RunRecord) -> int:
    """DESIGN's table: interrupted and failed runs keep their code; else 3 on a critical SLA."""
    code = record.exit_code if record.exit_code is not None else int(ExitCode.STAGE_FAILED)
    if code == ExitCode.OK and record.sla.critical_violation:
        return int(ExitCode.SLA_CRITICAL)
    return code


def finish_run(
    request: RunRequest,
    start: RunStart,
    record: RunRecord,
    formats: tuple[str, ...],
    history: HistoryTarget = NO_HISTORY,
) -> Finished:
    """Judge the record, rewrite run.json, write the other report files, record history.

    `history.path` is the database to record the run in (None: not recorded);
    `history.on_wait` hears at once when recording waits for another process's lock
    (default: a warning at the end). A report or a history that cannot be written becomes
    a warning; the run's exit code stands.
    """
    record = apply_sla(record, request.plan.policy)
    record = attach_bottlenecks(
        record, available_memory_bytes=request.host.available_memory_bytes or None
    )
    record = replace(record, exit_code=final_exit_code(record))
    path = start.run_dir / RECORD_NAME
    with start.warnings.guard(RECORD_NAME, path):
        write_record(record, path)
    written = write_reports(record, start.run_dir, formats, start.masker, start.warnings)
    cache = template_cache_failure()
    if cache is not None:
        start.warnings.add("template cache", *cache)
    if history.path is not None:
        # A lock held by another process is waited for (a while), and said.
        on_wait = history.on_wait or start.warnings.note
        unrecorded = record_safely(history.path, record, on_wait=on_wait)
        if unrecorded is not None:
            start.warnings.note(unrecorded)
    return Finished(record=record, reports=tuple(written), warnings=start.warnings.lines)


class Finisher:
    """The end of a run, loaded as one piece while the stages run (see pipeline.workflow)."""

    def prepare(self) -> None:
        """Load and compile the report template now, so rendering at the end is quick."""
        prepare()

    def finish(
        self,
        request: RunRequest,
        start: RunStart,
        record: RunRecord,
        formats: tuple[str, ...],
        history: tuple[Path | None, Callable[[str], None] | None],
    ) -> Finished:
        """`finish_run`; `history` is the database and who hears that recording waits."""
        return finish_run(request, start, record, formats, HistoryTarget(*history))
