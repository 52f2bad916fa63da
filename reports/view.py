"""What every renderer shows, computed once: masked text, log tails, outcome, stage rows.

A stage's output is untrusted: it is cleaned of terminal escapes, masked, and only then
handed to a renderer, which escapes it for its own format.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from orchestrator.model.errors import ExitCode
from orchestrator.model.files import SCANNED_LINES, clean_text, failure_lines, log_tail
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, SlaStatus, StageRecord, StageStatus, wall_time_s
from orchestrator.model.units import seconds, size
from sla.chain import chain_words
from sla.headline import headline as lead_sentence

TAIL_LINES = 40
TAIL_BYTES = 16 * 1024
LINE_CHARS = 500
FAILING = frozenset({StageStatus.FAILED, StageStatus.TIMEOUT, StageStatus.ERROR})


def clean(text: str, masker: Masker | None) -> str:
    """Text without terminal escapes, overwritten progress or controls, secrets masked
    (after the escapes are gone: colour codes may split a secret)."""
    text = clean_text(text, colours=False)
    return masker.mask(text) if masker is not None else text


def read_tail(run_dir: Path, log: str | None, masker: Masker | None) -> str | None:
    """The end of a stage's log that says why it failed (pytest's short test summary, else
    the last lines: `model.files.failure_lines`), if the log lies inside the run directory."""
    if not log:
        return None
    try:
        root = run_dir.resolve()
        path = (root / log).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        tail = log_tail(path, SCANNED_LINES, TAIL_BYTES, colours=False)
    except (OSError, ValueError):  # unreadable, or a path no file system accepts
        return None
    text = "\n".join(failure_lines(tail, TAIL_LINES)[0])
    text = masker.mask(text) if masker is not None else text
    lines = [
        line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " …" for line in text.split("\n")
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """The run's result in a word, with the CSS/emoji key renderers style it by."""

    word: str
    key: str  # "passed", "failed", "sla", "interrupted", "incomplete", "broken"


RETRY = "retry the job on another runner; this is no verdict on the change"


def outcome(record: RunRecord) -> Outcome:
    """The result the exit code stands for (DESIGN.md's table)."""
    code = record.exit_code
    if code == ExitCode.OK:
        return Outcome("passed", "passed")
    if code == ExitCode.SLA_CRITICAL:
        return Outcome("passed, but a critical SLA target was missed", "sla")
    if code == ExitCode.RUNNER_BROKEN or (code is None and record.runner_broken):
        return Outcome("runner broken", "broken")
    if code in (ExitCode.SIGINT, ExitCode.SIGTERM, ExitCode.SIGHUP):
        return Outcome("interrupted", "interrupted")
    if code is None:
        return Outcome("incomplete", "incomplete")
    return Outcome("failed", "failed")


@dataclass(frozen=True)
class StageRow:
    """One stage as every report shows it; free text already cleaned and masked."""

    number: int
    name: str
    status: StageStatus
    exit_code: int | None
    attempts: int
    start_s: float
    duration_s: float
    target_s: float | None
    sla: SlaStatus
    rss_sla: SlaStatus
    cpu_percent: float
    peak_rss_bytes: int
    max_rss_bytes: int | None
    worker: str | None
    executor: str | None
    command: str | None
    error: str | None
    tail: str | None
    cached_from: str | None = None  # the run whose pass was reused, for a cache hit
    saved_s: float | None = None  # that run's duration of the stage
    # The run whose cached pass this run ran again (`cache_verify`) and saw fail.
    diverged_from: str | None = None
    runner_fault: str | None = None  # the runner's problem behind its outcome, not its own
    # A split stage's parts: (part label "K/N", shard label or None, status, start s, wall s)
    parts: tuple[tuple[str, str | None, StageStatus, float, float], ...] = ()

    @property
    def status_text(self) -> str:
        """ "passed (cached)" for a reused pass, "failed (cached pass diverged)" for a
        verified one that failed, "cancelled (runner's fault)" for an outcome that is the
        runner's, else the status word."""
        if self.diverged_from:
            return f"{self.status.value} (cached pass diverged)"
        if self.cached_from:
            return f"{self.status.value} (cached)"
        if self.runner_fault and not self.status.ok:
            return f"{self.status.value} (runner's fault)"
        return self.status.value

    @property
    def own_failure(self) -> bool:
        """Failed, timed out or could not run by its own doing (not the runner's)."""
        return self.failing and not self.runner_fault

    @property
    def cache_note(self) -> str:
        """ "cached from RUN, saved 12.3s" for a reused pass, the divergence for a
        verified pass that failed, else ""."""
        if self.diverged_from:
            return divergence(self.diverged_from)
        if not self.cached_from:
            return ""
        return f"cached from {self.cached_from}, saved {seconds(self.saved_s or 0.0)}"

    @property
    def failing(self) -> bool:
        """Failed, timed out or could not run: its log tail is shown."""
        return self.status in FAILING

    @property
    def ran(self) -> bool:
        """It took time on a worker, so it belongs on the timeline."""
        if self.cached_from:
            return False  # reused: it took no worker's time in this run
        return self.status is not StageStatus.SKIPPED and self.duration_s > 0

    @property
    def target_share(self) -> float | None:
        """Duration as a share of the target (1.0 = on target)."""
        if not self.target_s or not self.ran:
            return None
        return self.duration_s / self.target_s

    @property
    def headline(self) -> str:
        """Why the stage failed, in one line."""
        if self.status is StageStatus.TIMEOUT and "timed out" in (self.error or ""):
            return self.error or ""
        if self.status is StageStatus.TIMEOUT:
            reason = f"timed out after {seconds(self.duration_s)}"
        elif self.exit_code not in (None, 0):
            reason = f"{self.status.value} with exit code {self.exit_code}"
        else:
            reason = self.status.value
        # The engine's own error for a plain non-zero exit says what the reason says.
        if self.error and self.error != f"exited with code {self.exit_code}":
            reason = f"{reason}: {self.error}"
        return f"{reason} ({self.cache_note})" if self.diverged_from else reason


def divergence(from_run: str) -> str:
    """What every report says of a cached pass that failed when run again."""
    return (
        f"cache_verify ran it again: its pass cached from run {from_run} failed now, so the "
        "entry was removed; its key misses something it reads (see `workflow cache audit`)"
    )


def stage_row(stage: StageRecord, run_dir: Path | None, masker: Masker | None) -> StageRow:
    """A stage's row; its log tail only when it failed and the run directory is known."""
    tail = None
    if run_dir is not None and stage.status in FAILING:
        tail = read_tail(run_dir, stage.log, masker)
    reused = stage.cache if stage.cache_hit else None
    return StageRow(
        number=stage.number,
        name=stage.name,
        status=stage.status,
        exit_code=stage.exit_code,
        attempts=stage.attempts,
        start_s=stage.start_offset_s,
        duration_s=stage.duration_s,
        target_s=stage.sla.target_s,
        sla=stage.sla.status,
        rss_sla=stage.sla.rss_status,
        cpu_percent=stage.cpu_percent,
        peak_rss_bytes=stage.peak_rss_bytes,
        max_rss_bytes=stage.sla.max_rss_bytes,
        worker=stage.worker,
        executor=stage.executor,
        command=stage.command,
        error=stage.error,
        tail=tail,
        cached_from=reused.from_run if reused is not None else None,
        saved_s=reused.saved_s if reused is not None else None,
        diverged_from=stage.cache.from_run if stage.cache and stage.cache.diverged else None,
        runner_fault=stage.runner_fault,
        parts=tuple(
            (part.part, part.shard, part.status, part.start_offset_s, part.duration_s)
            for part in stage.parts
        ),
    )


# Enum fields: their values are fixed words, never output (and must stay valid).
def _scrub(value: Any, masker: Masker | None) -> Any:
    if isinstance(value, Enum):  # statuses are fixed words, though also strings
        return value
    if isinstance(value, str):
        return clean(value, masker)
    if isinstance(value, tuple):
        return tuple(_scrub(item, masker) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _scrub(getattr(value, f.name), masker) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def scrub_record(record: RunRecord, masker: Masker | None) -> RunRecord:
    """The record with every free text cleaned and masked, for any report to show."""
    scrubbed: RunRecord = _scrub(record, masker)
    return scrubbed


@dataclass(frozen=True)
class RunView:
    """The whole run as the reports show it."""

    record: RunRecord  # scrubbed: every free text cleaned and masked
    outcome: Outcome
    wall_s: float
    stages: tuple[StageRow, ...]
    summary: str = ""  # the sentence every report leads with (sla.headline)
    chain: str = ""  # the critical path in words: "→" for a need, a queue said as one

    @property
    def failing(self) -> tuple[StageRow, ...]:
        """Stages that failed, timed out or could not run."""
        return tuple(row for row in self.stages if row.failing)

    @property
    def diverged(self) -> tuple[StageRow, ...]:
        """Stages whose cached pass failed when `cache_verify` ran them again."""
        return tuple(row for row in self.stages if row.diverged_from)

    @property
    def broken(self) -> str | None:
        """Why the runner broke ("3 stages could not start: ..."), or None."""
        return self.record.runner_broken

    @property
    def broken_line(self) -> str:
        """The run's one line about a broken runner, or "" when it did not break."""
        cause = self.record.runner_broken
        return "" if not cause else f"runner broken: {cause} ({RETRY})"

    def count(self, status: StageStatus) -> int:
        """How many stages ended this way."""
        return sum(1 for row in self.stages if row.status is status)


def build_view(record: RunRecord, run_dir: Path | None, masker: Masker | None) -> RunView:
    """Everything a renderer needs, with every free text cleaned and masked."""
    record = scrub_record(record, masker)
    return RunView(
        record=record,
        outcome=outcome(record),
        wall_s=wall_time_s(record),
        stages=tuple(stage_row(s, run_dir, masker) for s in record.stages),
        summary=lead_sentence(record),
        chain=chain_words(record, record.pool.critical_path),
    )


def target_text(row: StageRow) -> str:
    """The stage's target, or a dash."""
    return "—" if row.target_s is None else f"{row.target_s:g}s"


def memory_text(row: StageRow) -> str:
    """Peak memory, with its target when there is one."""
    peak = size(row.peak_rss_bytes) if row.peak_rss_bytes else "—"
    return peak if row.max_rss_bytes is None else f"{peak} / {size(row.max_rss_bytes)}"
