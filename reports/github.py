"""GitHub Actions: annotations for failures and SLA findings, and the job summary.

GitHub shows at most 10 annotations of each kind per step and drops the rest without a
word, so every error of the run (failed stages, critical SLA breaches, failed tests) is
ranked in one list, and every warning (SLA, bottlenecks, flaky tests) in another, and
each list is capped at 10 lines: past that, its tenth says how many more there are and
where the report is (DESIGN.md, "In GitHub Actions"). A test's `file=` is relative to the
repository root (the record keeps it so), so GitHub places it whatever the stage's `cwd`
or pytest's rootdir. The job summary file holds at most 1 MiB per step, so the markdown
is sized to what is left.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

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


class Annotation(NamedTuple):
    """One annotation: its title and message, and where it points (None: the run)."""

    title: str
    message: str
    file: str | None = None
    line: int | None = None


def test_annotations(view: RunView) -> tuple[list[Annotation], list[Annotation]]:
    """Errors for failed tests at their file and line, warnings for escapes of test
    selection and flaky tests."""
    errors: list[Annotation] = []
    warnings: list[Annotation] = []
    for t in stage_tests(view.record):
        for f in t.failures:
            title = f"workflow: {t.stage}: {f.id} failed"
            errors.append(Annotation(title, f.message or "failed", f.file, f.line))
        rootdir = t.summary.rootdir
        for test in t.escapes:
            title = f"workflow: {t.stage}: {test} escaped test selection"
            message = 'shadow mode: select = "affected" would have skipped it, and it failed'
            warnings.append(Annotation(title, message, _test_file(test, rootdir)))
        for test in t.summary.flaky:
            title = f"workflow: {t.stage}: {test} is flaky"
            message = "failed, then passed when run again; the stage passed"
            warnings.append(Annotation(title, message, _test_file(test, rootdir)))
    return errors, warnings


def _test_file(test: str, rootdir: str | None) -> str:
    """A test id's file, relative to the repository root (pytest's ids are to its rootdir)."""
    file = test.split("::", maxsplit=1)[0]
    return file if rootdir is None else posixpath.join(rootdir, file)


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


def ranked_annotations(view: RunView) -> tuple[list[Annotation], list[Annotation]]:
    """Every error and warning of the run, most important first, uncapped: a broken
    runner, failed stages, critical SLA breaches, then failed tests; SLA warnings and
    findings, then flaky tests. The stages a broken runner touched are not failures (in a
    run that did not break, a stage the runner kept from starting still is one)."""
    errors = [Annotation("workflow: runner broken", view.broken_line)] if view.broken_line else []
    errors += [
        Annotation(*_failure(row))
        for row in view.failing
        if row.own_failure or not view.broken_line
    ]
    ranked = sorted(view.stages, key=_overshoot, reverse=True)
    statuses = {row.name: {row.sla, row.rss_sla} for row in ranked}
    errors += [
        Annotation(f"workflow: {row.name} missed a critical SLA target", _sla_message(row))
        for row in ranked
        if SlaStatus.CRITICAL in statuses[row.name]
    ]
    warnings = [
        Annotation(f"workflow: {row.name} missed its SLA target", _sla_message(row))
        for row in ranked
        if statuses[row.name] & BREACHED and SlaStatus.CRITICAL not in statuses[row.name]
    ]
    sla = view.record.sla
    if sla.budget_status is SlaStatus.BREACH and sla.budget_s is not None:
        budget = f"took {seconds(view.wall_s)}, over the lane budget of {sla.budget_s:g}s"
        warnings.append(Annotation("workflow: run over budget", budget))
    warnings += [
        Annotation(
            f"workflow: bottleneck: {b.kind.replace('_', ' ')}", f"{b.detail} {b.recommendation}"
        )
        for b in view.record.bottlenecks
    ]
    warnings += [
        Annotation(f"workflow: {row.name} near its SLA target", _sla_message(row))
        for row in ranked
        if SlaStatus.WARNING in statuses[row.name] and not statuses[row.name] & BREACHED
    ]
    test_errors, test_warnings = test_annotations(view)
    return errors + test_errors, warnings + test_warnings


def capped(level: str, items: list[Annotation], report: str) -> list[str]:
    """At most ANNOTATION_LIMIT commands; past that, the last says how many more there are
    and where the report is (`report`: its path as the step would open it)."""
    shown = items
    if len(items) > ANNOTATION_LIMIT:
        rest = len(items) - (ANNOTATION_LIMIT - 1)
        kind = "errors" if level == "error" else "warnings"
        more = Annotation(
            f"workflow: {rest} more {kind}",
            f"GitHub shows {ANNOTATION_LIMIT} {kind} a step; {rest} more are in the job "
            f"summary and in {report}.",
        )
        shown = [*items[: ANNOTATION_LIMIT - 1], more]
    return [
        command_at(level, a.title, a.message, a.file, a.line)
        if a.file
        else command(level, a.title, a.message)
        for a in shown
    ]


def report_path(run_dir: Path) -> str:
    """The run's HTML report, relative to the current directory when it lies inside it."""
    path = run_dir / "report.html"
    here = Path.cwd()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


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
    report = report_path(run_dir)
    for line in [*capped("error", errors, report), *capped("warning", warnings, report)]:
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
