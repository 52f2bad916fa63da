"""After the stages: the SLA verdict, bottlenecks, the final exit code, reports, history.

The SLA can only raise a passing run to exit 3; failures (1) and interruptions
(129/130/143) keep their codes. A report or history that cannot be written never changes
the run's outcome: it is said (in the run's warnings), and the run's own exit code stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.engine.pytest.junit import load_lxml
from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, write_record
from orchestrator.pipeline.prepare import Prepared
from orchestrator.pipeline.recorder import RECORD_NAME
from orchestrator.pipeline.request import RunStart
from reports import write_reports
from reports.html import prepare, template_cache_failure
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
    prepared: Prepared,
    start: RunStart,
    record: RunRecord,
    on_wait: Callable[[str], None] | None = None,
) -> Finished:
    """Judge the record, rewrite run.json, write the other reports, record the history.

    Every destination that cannot be written becomes one line in `start.warnings`;
    `on_wait` hears when the history database is locked and the run waits for it.
    """
    request = prepared.request
    if request is None:
        raise ValueError("a prepared run without a plan has nothing to finish")
    record = apply_sla(record, request.plan.policy)
    record = attach_bottlenecks(
        record,
        replay_record(record),
        available_memory_bytes=request.host.available_memory_bytes or None,
    )
    record = replace(record, exit_code=final_exit_code(record))
    path = start.run_dir / RECORD_NAME
    with start.warnings.guard(RECORD_NAME, path):
        write_record(record, path)
    formats = prepared.formats
    written = write_reports(record, start.run_dir, formats, start.masker, start.warnings)
    cache = template_cache_failure()
    if cache is not None:
        start.warnings.add("template cache", *cache)
    if prepared.history is not None:
        unrecorded = _record(prepared.history, record, start, on_wait)
        if unrecorded is not None:
            start.warnings.note(unrecorded)
    return Finished(record=record, reports=tuple(written), warnings=start.warnings.lines)


def _record(
    history: Path, record: RunRecord, start: RunStart, on_wait: Callable[[str], None] | None
) -> str | None:
    """Record the run, then its per-test rows; one sentence on the first problem."""
    # sqlite3 and the store load only for a run that is recorded: the end of a run without
    # history (and the helper thread that loads this module) skips them. The module's one
    # deferred import.
    from orchestrator.history.store import record_safely  # noqa: PLC0415 - see above
    from orchestrator.pipeline.testrows import record_test_rows_safely  # noqa: PLC0415 - the same

    unrecorded = record_safely(history, record, on_wait=on_wait)
    if unrecorded is None:
        unrecorded = record_test_rows_safely(history, record, start.run_dir, start.masker)
    if unrecorded is None and any(s.tests and s.tests.selection for s in record.stages):
        from orchestrator.pipeline.learned import update_maps_safely  # noqa: PLC0415 - the same

        unrecorded = update_maps_safely(history, record, start.run_dir)
    return unrecorded


class Finisher:
    """The end of a run, loaded as one piece while the stages run (see pipeline.workflow)."""

    def prepare(self) -> None:
        """Load and compile the report template now, so rendering at the end is quick, and
        load what the stages' ends need but their start does not (the JUnit reader)."""
        prepare()
        load_lxml()

    def finish(
        self,
        prepared: Prepared,
        start: RunStart,
        record: RunRecord,
        on_wait: Callable[[str], None] | None = None,
    ) -> Finished:
        """`finish_run`."""
        return finish_run(prepared, start, record, on_wait)
