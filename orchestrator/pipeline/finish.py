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
from orchestrator.model.filenames import RunDir
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, write_record
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.prepare import Prepared
from orchestrator.pipeline.request import RunStart
from reports import write_reports
from reports.html import prepare, template_cache_failure
from sla.bottlenecks import attach_bottlenecks
from sla.targets import SlaPolicy
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


@dataclass(frozen=True)
class Finish:
    """What finishing a record needs, whoever made it: a run (`run_finish`) or a merge of
    shards (`pipeline/merge`). Both end through `finish_run`, so they cannot drift apart.

    `policy` None: nothing to judge against (a merged run of lane "none"). `history` None:
    the run is not recorded. `available_memory_bytes` None: unknown (no memory finding).
    """

    policy: SlaPolicy | None
    run_dir: Path
    formats: tuple[str, ...]
    history: Path | None
    masker: Masker
    warnings: WriteWarnings
    available_memory_bytes: int | None = None


def run_finish(prepared: Prepared, start: RunStart) -> Finish:
    """How a run of `prepared`, started as `start`, is finished."""
    request = prepared.request
    if request is None:
        raise ValueError("a prepared run without a plan has nothing to finish")
    return Finish(
        policy=request.plan.policy,
        run_dir=start.run_dir,
        formats=tuple(prepared.formats),
        history=prepared.history,
        masker=start.masker,
        warnings=start.warnings,
        available_memory_bytes=request.host.available_memory_bytes or None,
    )


def finish_run(
    record: RunRecord, finish: Finish, on_wait: Callable[[str], None] | None = None
) -> Finished:
    """Judge the record, rewrite run.json, write the other reports, record the history.

    Every destination that cannot be written becomes one line in `finish.warnings`;
    `on_wait` hears when the history database is locked and the run waits for it.
    """
    if finish.policy is not None:
        record = apply_sla(record, finish.policy)
    record = attach_bottlenecks(
        record, replay_record(record), available_memory_bytes=finish.available_memory_bytes
    )
    record = replace(record, exit_code=final_exit_code(record))
    path = RunDir(finish.run_dir).record
    with finish.warnings.guard(RunDir.RECORD, path):
        write_record(record, path)
    written = write_reports(record, finish.run_dir, finish.formats, finish.masker, finish.warnings)
    cache = template_cache_failure()
    if cache is not None:
        finish.warnings.add("template cache", *cache)
    if finish.history is not None:
        unrecorded = _record(finish.history, record, finish, on_wait)
        if unrecorded is not None:
            finish.warnings.note(unrecorded)
    return Finished(record=record, reports=tuple(written), warnings=finish.warnings.lines)


def _record(
    history: Path, record: RunRecord, finish: Finish, on_wait: Callable[[str], None] | None
) -> str | None:
    """Record the run, then its per-test rows; one sentence on the first problem."""
    # sqlite3 and the store load only for a run that is recorded: the end of a run without
    # history (and the helper thread that loads this module) skips them. The module's one
    # deferred import.
    from orchestrator.history.store import record_safely  # noqa: PLC0415 - see above
    from orchestrator.pipeline.testrows import record_test_rows_safely  # noqa: PLC0415 - the same

    unrecorded = record_safely(history, record, on_wait=on_wait)
    if unrecorded is None:
        unrecorded = record_test_rows_safely(history, record, finish.run_dir, finish.masker)
    if unrecorded is None and any(s.tests and s.tests.selection for s in record.stages):
        from orchestrator.pipeline.learned import update_maps_safely  # noqa: PLC0415 - the same

        unrecorded = update_maps_safely(history, record, finish.run_dir)
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
        """`finish_run` of a run of `prepared`."""
        return finish_run(record, run_finish(prepared, start), on_wait)
