"""After the stages: the SLA verdict, bottlenecks, the final exit code, reports, history.

The SLA can only raise a passing run to exit 3; failures (1) and interruptions
(129/130/143) keep their codes. A report or history that cannot be written never changes
the run's outcome: it is said, and the run's own exit code stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.history.store import record_safely
from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, write_record
from orchestrator.pipeline.run import RECORD_NAME, RunRequest, RunStart
from reports import write_reports
from reports.html import prepare
from sla.bottlenecks import attach_bottlenecks
from sla.verdict import apply_sla


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
    history: Path | None = None,
) -> Finished:
    """Judge the record, rewrite run.json, write the other report files, record history.

    `history` is the database to record the run in (None: not recorded). A report or a
    history that cannot be written becomes a warning; the run's exit code stands.
    """
    record = apply_sla(record, request.plan.policy)
    record = attach_bottlenecks(
        record, available_memory_bytes=request.host.available_memory_bytes or None
    )
    record = replace(record, exit_code=final_exit_code(record))
    write_record(record, start.run_dir / RECORD_NAME)
    warnings: list[str] = []
    written: list[Path] = []
    try:
        written = write_reports(record, start.run_dir, formats, start.masker)
    except OSError as exc:
        warnings.append(f"reports were not written to {start.run_dir}: {exc.strerror}")
    if history is not None:
        unrecorded = record_safely(history, record)
        if unrecorded is not None:
            warnings.append(unrecorded)
    return Finished(record=record, reports=tuple(written), warnings=tuple(warnings))


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
        history: Path | None,
    ) -> Finished:
        """`finish_run`."""
        return finish_run(request, start, record, formats, history)
