"""GitHub Actions: annotations for failures and SLA findings, and the job summary.

GitHub shows at most 10 annotations of each kind per step and drops the rest, so they are
ranked (failures, then the worst overshoot, then the costliest bottleneck) and capped. The
job summary file holds at most 1 MiB per step, so the markdown is sized to what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, SlaStatus, StageStatus
from orchestrator.model.units import seconds, size
from orchestrator.model.writes import WriteWarnings
from reports.markdown import SUMMARY_LIMIT, render_markdown
from reports.tests_view import stage_tests
from reports.view import RunView, StageRow, build_view

ANNOTATION_LIMIT = 10
SUMMARY_MARGIN = 4 * 1024
MIN_SUMMARY = 4 * 1024
TAIL_IN_ANNOTATION = 5
BREACHED = frozenset({SlaStatus.BREACH, SlaStatus.CRITICAL})


def escape_data(value: str) -> str:
    """A workflow command's message: a newline must not start a new command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (title=...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(level: str, title: str, message: str) -> str:
    """`::error title=...::message`."""
    return f"::{level} title={escape_property(title)}::{escape_data(message)}"


def command_at(level: str, title: str, message: str, file: str, line: int | None) -> str:
    """`::error file=F,line=L,title=...::message`: an annotation on a line of a file."""
    where = f"file={escape_property(file)}" + (f",line={line}" if line else "")
    return f"::{level} {where},title={escape_property(title)}::{escape_data(message)}"


def test_annotations(view: RunView) -> tuple[list[str], list[str]]:
    """Errors for failed tests at their file and line, warnings for flaky tests (capped)."""
    errors: list[str] = []
    warnings: list[str] = []
    for t in stage_tests(view.record):
        for f in t.failures:
            title = f"workflow: {t.stage}: {f.id} failed"
            message = f.message or "failed"
            errors.append(
                command_at("error", title, message, f.file, f.line)
                if f.file
                else command("error", title, message)
            )
        for test in t.escapes:
            title = f"workflow: {t.stage}: {test} escaped test selection"
            message = 'shadow mode: select = "affected" would have skipped it, and it failed'
            warnings.append(command_at("warning", title, message, test.split("::")[0], None))
        for test in t.summary.flaky:
            title = f"workflow: {t.stage}: {test} is flaky"
            message = "failed, then passed when run again; the stage passed"
            warnings.append(command_at("warning", title, message, test.split("::")[0], None))
    return errors[:ANNOTATION_LIMIT], warnings[:ANNOTATION_LIMIT]


def _failure(row: StageRow) -> tuple[str, str]:
    tail = (row.tail or "").split("\n")[-TAIL_IN_ANNOTATION:] if row.tail else []
    return f"workflow: {row.name} {row.status.value}", "\n".join([row.headline, *tail])


def _overshoot(row: StageRow) -> float:
    share = row.target_share or 0.0
    memory = row.peak_rss_bytes / row.max_rss_bytes if row.max_rss_bytes else 0.0
    return max(share, memory)


def _sla_message(row: StageRow) -> str:
    parts = []
    if row.sla in BREACHED or row.sla is SlaStatus.WARNING:
        took = "timed out after" if row.status is StageStatus.TIMEOUT else "took"
        parts.append(f"{took} {seconds(row.duration_s)} against a {row.target_s:g}s target")
    if row.rss_sla in BREACHED or row.rss_sla is SlaStatus.WARNING:
        limit = size(row.max_rss_bytes or 0)
        parts.append(f"peak memory {size(row.peak_rss_bytes)} against a {limit} target")
    return "; ".join(parts)


def ranked_annotations(view: RunView) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(title, message) errors and warnings, most important first, uncapped."""
    errors = [_failure(row) for row in view.failing]
    ranked = sorted(view.stages, key=_overshoot, reverse=True)
    statuses = {row.name: {row.sla, row.rss_sla} for row in ranked}
    errors += [
        (f"workflow: {row.name} missed a critical SLA target", _sla_message(row))
        for row in ranked
        if SlaStatus.CRITICAL in statuses[row.name]
    ]
    warnings = [
        (f"workflow: {row.name} missed its SLA target", _sla_message(row))
        for row in ranked
        if statuses[row.name] & BREACHED and SlaStatus.CRITICAL not in statuses[row.name]
    ]
    sla = view.record.sla
    if sla.budget_status is SlaStatus.BREACH and sla.budget_s is not None:
        budget = f"took {seconds(view.wall_s)}, over the lane budget of {sla.budget_s:g}s"
        warnings.append(("workflow: run over budget", budget))
    warnings += [
        (f"workflow: bottleneck: {b.kind.replace('_', ' ')}", f"{b.detail} {b.recommendation}")
        for b in view.record.bottlenecks
    ]
    warnings += [
        (f"workflow: {row.name} near its SLA target", _sla_message(row))
        for row in ranked
        if SlaStatus.WARNING in statuses[row.name] and not statuses[row.name] & BREACHED
    ]
    return errors, warnings


def capped(level: str, items: list[tuple[str, str]]) -> list[str]:
    """At most ANNOTATION_LIMIT commands; the last says how many more the summary has."""
    if len(items) <= ANNOTATION_LIMIT:
        return [command(level, title, message) for title, message in items]
    shown = items[: ANNOTATION_LIMIT - 1]
    rest = len(items) - len(shown)
    more = ("workflow: more findings", f"{rest} more; see the job summary or report.html.")
    return [command(level, title, message) for title, message in [*shown, more]]


def append_summary(path: Path, record: RunRecord, run_dir: Path, masker: Masker | None) -> bool:
    """Append the markdown report, sized to what the step's summary has left; False if full.

    Raises OSError when the summary file cannot be written.
    """
    used = path.stat().st_size if path.is_file() else 0
    room = SUMMARY_LIMIT - used - SUMMARY_MARGIN
    if room < MIN_SUMMARY:
        return False
    text = render_markdown(record, run_dir, masker, max_bytes=room)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(("\n" if used else "") + text)
    return True


def publish_github(  # noqa: PLR0913 - where to publish, plus keyword-only masking and warnings
    record: RunRecord,
    run_dir: Path,
    env: Mapping[str, str],
    emit: Callable[[str], None],
    masker: Masker | None = None,
    *,
    failed_writes: WriteWarnings | None = None,
) -> None:
    """In GitHub Actions: annotations through `emit`, markdown into $GITHUB_STEP_SUMMARY.

    A summary file that cannot be written is noted in `failed_writes` (raised without).
    """
    if env.get("GITHUB_ACTIONS") != "true":
        return
    view = build_view(record, run_dir, masker)
    errors, warnings = ranked_annotations(view)
    test_errors, test_warnings = test_annotations(view)
    for line in [*capped("error", errors), *test_errors, *capped("warning", warnings)]:
        emit(line)
    for line in test_warnings:
        emit(line)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    appended = True
    try:
        appended = append_summary(Path(summary), record, run_dir, masker)
    except OSError as exc:
        if failed_writes is None:
            raise
        failed_writes.add("job summary ($GITHUB_STEP_SUMMARY)", summary, exc)
    if not appended:
        emit(command("notice", "workflow", "The job summary is full; see report.md."))
