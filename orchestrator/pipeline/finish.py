"""After the stages: the SLA verdict, bottlenecks, the final exit code, reports, history.

The SLA can only raise a passing run to exit 3; failures (1) and interruptions
(130/143) keep their codes. A report or history that cannot be written never changes
the run's outcome: it is said (in the run's warnings), and the run's own exit code stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.model.errors import ExitCode
from orchestrator.model.records import RunRecord, write_record
from orchestrator.pipeline.recorder import RECORD_NAME
from orchestrator.pipeline.run import RunRequest, RunStart
from reports import write_reports
from reports.html import template_cache_failure
from sla.bottlenecks import attach_bottlenecks
from sla.targets import policy_for
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
    request: RunRequest, start: RunStart, record: RunRecord, formats: tuple[str, ...]
) -> Finished:
    """Judge the record, rewrite run.json, and write the other report files."""
    plan = request.plan
    policy = policy_for(request.loaded.config, plan.lane, [s.name for s in plan.stages])
    record = apply_sla(record, policy)
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
    return Finished(record=record, reports=tuple(written), warnings=start.warnings.lines)
