"""The markdown report: the HTML report's facts, compact, for GitHub's job summary.

GitHub renders raw HTML in markdown, so stage text is HTML-escaped and its markdown
punctuation backslashed; log tails go in code fences longer than any backtick run inside.
The whole text is kept under `max_bytes` (the job summary's 1 MiB limit) by dropping log
tails first, then table rows.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, SlaStatus, StageStatus
from orchestrator.model.units import count, markdown_row, percent, seconds
from reports.tests_view import stage_tests
from reports.view import RunView, StageRow, build_view, memory_text, target_text

SUMMARY_LIMIT = 1024 * 1024  # GitHub's limit for one step's job summary
MAX_BYTES = SUMMARY_LIMIT - 16 * 1024
TAILS_SHOWN = 10  # failed stages whose log tail is shown
TAIL_LINES = 20  # the job summary is read in a browser tab: the last lines say enough
ICONS = {
    StageStatus.PASSED: "✅",
    StageStatus.FAILED: "❌",
    StageStatus.TIMEOUT: "⏱️",
    StageStatus.ERROR: "💥",
    StageStatus.CANCELLED: "⏹️",
    StageStatus.SKIPPED: "⏭️",
}
OUTCOME_ICONS = {"passed": "✅", "failed": "❌", "sla": "⚠️", "broken": "🛠️"}
SLA_WORDS = {
    SlaStatus.OK: "ok",
    SlaStatus.WARNING: "⚠️ warning",
    SlaStatus.BREACH: "🔴 breach",
    SlaStatus.CRITICAL: "❗ critical",
    SlaStatus.NONE: "—",
}
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")


def text(value: str) -> str:
    """Stage-supplied text, safe in a table cell or a list item."""
    escaped = html.escape(" ".join(value.split()), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)


def code(value: str) -> str:
    """A short value as inline code, whatever backticks it holds."""
    value = " ".join(value.split())
    ticks = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    return f"{ticks} {value} {ticks}" if "`" in value else f"`{value}`"


def fenced(value: str) -> str:
    """A block of log text, verbatim."""
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    return f"{fence}text\n{value}\n{fence}"


def _header(view: RunView) -> list[str]:
    r = view.record
    icon = OUTCOME_ICONS.get(view.outcome.key, "⏹️")
    forced = " (forced)" if r.lane_forced else ""
    budget = "" if r.sla.budget_s is None else f" of a {r.sla.budget_s:g}s budget"
    commit = f", commit {code(r.git.sha[:12])}" if r.git.sha else ""
    if r.git.sha and r.git.tree:  # where the pre-push hook checked a pushed commit
        commit += f" ({text(r.git.tree)})"
    workers = count(r.workers, "worker")
    lines = [
        f"## {icon} workflow: {view.outcome.word}",
        "",
        f"**Lane** {text(r.lane)}{forced} · **{r.strategy}**, {workers} · "
        f"**wall** {seconds(view.wall_s)}{budget} · run {code(r.run_id)}{commit}",
    ]
    if view.broken_line:
        lines += ["", f"> **{text(view.broken_line)}**"]
    if view.summary:
        lines += ["", f"**{text(view.summary)}**"]
    if r.lane_reasons:
        lines.append("")
        lines += [f"- {text(reason)}" for reason in r.lane_reasons]
    return lines


def _row(row: StageRow) -> str:
    duration = seconds(row.duration_s) if row.ran else "—"
    sla = SLA_WORDS[row.sla] if row.target_s is not None else "—"
    if row.rss_sla in (SlaStatus.BREACH, SlaStatus.CRITICAL):
        sla += f"; memory {SLA_WORDS[row.rss_sla]}"
    cells = [
        str(row.number),
        text(row.name),
        f"{ICONS[row.status]} {row.status_text}"
        + (f" ({row.cache_note})" if row.cache_note else ""),
        duration,
        target_text(row),
        sla,
        percent(row.cpu_percent),
        memory_text(row),
    ]
    return markdown_row(cells)


def _table(view: RunView, rows: int | None) -> list[str]:
    shown = view.stages if rows is None else view.stages[:rows]
    lines = [
        "",
        "| # | Stage | Status | Duration | Target | SLA | CPU | Peak memory |",
        "|--:|---|---|--:|--:|---|--:|--:|",
        *(_row(row) for row in shown),
    ]
    if len(shown) < len(view.stages):
        lines += ["", f"*{len(view.stages) - len(shown)} more stages are in report.html.*"]
    split = [row for row in shown if row.parts]
    if split:
        lines.append("")
    for row in split:
        each = ", ".join(
            f"{label} {status.value} {seconds(duration)}" + (f" (shard {shard})" if shard else "")
            for label, shard, status, _, duration in row.parts
        )
        lines.append(f"- {code(row.name)} ran as {count(len(row.parts), 'part')}: {each}")
    return lines


def _findings(view: RunView) -> list[str]:
    r = view.record
    lines: list[str] = []
    if view.diverged:
        lines += ["", "### Cache divergence", ""]
        lines += [f"- 🔴 {code(row.name)}: {text(row.cache_note)}" for row in view.diverged]
    if r.sla.violations or r.sla.warnings:
        lines += ["", "### SLA", ""]
        lines += [f"- 🔴 {text(line)}" for line in r.sla.violations]
        lines += [f"- ⚠️ {text(line)}" for line in r.sla.warnings]
    if r.bottlenecks:
        lines += ["", "### Bottlenecks", ""]
        for b in r.bottlenecks:
            saves = "" if b.saving_s is None else f" (saves {seconds(b.saving_s)})"
            lines.append(
                f"1. **{b.kind.replace('_', ' ')}**{saves}: {text(b.detail)} "
                f"*{text(b.recommendation)}*"
            )
    return lines


def _tests(view: RunView, tails: bool) -> list[str]:
    """Per stage: counts, flaky tests, failed tests by id and place, the slowest (full
    report only: the short form keeps counts, flaky and failed)."""
    found = stage_tests(view.record)
    lines: list[str] = ["", "### Tests"] if found else []
    for t in found:
        lines += ["", f"**{text(t.stage)}**: {text(t.counts)}"]
        if t.selection is not None:
            lines += ["", f"🔎 {text(t.selection)}"]
        if t.escapes:
            escaped = ", ".join(code(test) for test in t.escapes)
            lines += [
                "",
                f"⚠️ escapes (selection would have skipped them, and they failed): {escaped}",
            ]
        if t.summary.flaky:
            flaky = ", ".join(code(test) for test in t.summary.flaky)
            lines += ["", f"⚠️ flaky (failed, then passed on a rerun): {flaky}"]
        if t.failures:
            lines.append("")
            for f in t.failures:
                where = f" at {code(f'{f.file}:{f.line}' if f.line else f.file)}" if f.file else ""
                message = f": {text(f.message)}" if f.message else ""
                lines.append(f"- ❌ {code(f.id)}{where}{message}")
            if t.more_failed:
                lines.append(f"- *{t.more_failed} more failed tests are in the JUnit file.*")
        if tails and t.slowest:
            lines += [
                "",
                f"| Slowest test | Duration | Share of {text(t.stage)} |",
                "|---|--:|--:|",
            ]
            lines += [
                markdown_row([code(s.id), seconds(s.duration_s, 3), f"{s.share:.0%}"])
                for s in t.slowest
            ]
    return lines


def _tails(view: RunView) -> list[str]:
    lines: list[str] = []
    failing = view.failing[:TAILS_SHOWN]
    if failing:
        lines += ["", "### Failed stages"]
    for row in failing:
        summary = html.escape(f"{row.name}: {row.headline}")
        lines += ["", f"<details><summary>{summary}</summary>", ""]
        tail = "\n".join(row.tail.split("\n")[-TAIL_LINES:]) if row.tail else ""
        lines.append(fenced(tail) if tail else "*No log output.*")
        lines += ["", "</details>"]
    return lines


def _written(view: RunView) -> list[str]:
    """Files stages changed in the project (a `writes = true` stage lists its own)."""
    writers = [stage for stage in view.record.stages if stage.changed_files]
    lines: list[str] = ["", "### Files the stages changed", ""] if writers else []
    for stage in writers:
        edits = ", ".join(f"{code(e.path)} ({e.change})" for e in stage.changed_files)
        lines.append(f"- {code(stage.name)}: {edits}")
    return lines


def compose(view: RunView, *, tails: bool = True, rows: int | None = None) -> str:
    """The markdown, with or without log tails and with at most `rows` table rows.

    A failed run leads with what the reader must act on: the failed stages (their log
    tails) and the failed tests come before the stage table and the findings.
    """
    failed = bool(view.failing)
    parts = _header(view)
    if failed:
        parts += [*(_tails(view) if tails else []), *_tests(view, tails)]
    parts += [*_table(view, rows), *_written(view), *_findings(view)]
    if not failed:
        parts += _tests(view, tails)
    return "\n".join(parts) + "\n"


def _fits(value: str, max_bytes: int) -> bool:
    return len(value.encode("utf-8")) <= max_bytes


def render_markdown(
    record: RunRecord, run_dir: Path, masker: Masker | None = None, max_bytes: int = MAX_BYTES
) -> str:
    """The report, under `max_bytes`: log tails go first, then table rows."""
    view = build_view(record, run_dir, masker)
    result = compose(view)
    if _fits(result, max_bytes):
        return result
    low, high = 0, len(view.stages)
    while low < high:  # the most rows that fit
        middle = (low + high + 1) // 2
        if _fits(compose(view, tails=False, rows=middle), max_bytes):
            low = middle
        else:
            high = middle - 1
    result = compose(view, tails=False, rows=low)
    if _fits(result, max_bytes):
        return result
    note = "\n*The rest of this report did not fit; see report.html.*\n"
    cut = result.encode("utf-8")[: max(0, max_bytes - len(note.encode()))]
    return cut.decode("utf-8", errors="ignore").rsplit("\n", 1)[0] + note
