"""What the terminal shows while stages run.

In a terminal: a live table (state, elapsed, ETA from history), started once the first
stage is announced (rich loads meanwhile, off the stages' way) and redrawn four times a
second by rich's one refresh thread, so elapsed time ticks and the ETA counts down while
a stage runs (the table is built anew at every refresh, never kept). Elsewhere (a pipe, or
CI=true): one plain line per event. In GitHub Actions each finished stage's log is folded
inside `::group::`. A stage's output is shown as one block after it ends, never
interleaved with another's; a failed stage shows the tail of its log.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from orchestrator.engine.pool import StageEvent
from orchestrator.model.files import SCANNED_LINES, failure_lines, tail_lines
from orchestrator.model.status import StageStatus
from orchestrator.model.units import MIB, fixed_seconds
from orchestrator.pipeline.workflow import RunStarted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from orchestrator.model.records import StageRecord

TAIL_LINES = 30
GROUP_MAX_BYTES = 512 * 1024
REFRESH_PER_SECOND = 4  # the live table's redraws: elapsed time moves at least twice a second


def describe_end(record: StageRecord) -> str:
    """`unit: FAILED in 3.2s (cpu 2.9s, 84 MB): exited with code 1`."""
    mb = record.peak_rss_bytes / MIB
    reused = record.cache if record.cache_hit else None
    if reused is not None:
        saved = reused.saved_s or 0.0
        return (
            f"{record.name}: passed (cached) from run {reused.from_run}, "
            f"saved {fixed_seconds(saved)}"
        )
    text = (
        f"{record.name}: {record.status.value}"
        if record.attempts == 0
        else f"{record.name}: {record.status.value} in {fixed_seconds(record.duration_s)} "
        f"(cpu {fixed_seconds(record.cpu_seconds)}, {mb:.0f} MB)"
    )
    if record.attempts > 1:
        text += f" after {record.attempts} attempts"
    if record.error and not record.status.ok:
        return f"{text}: {record.error}"
    if record.changed_files:  # a stage with writes = true
        edits = ", ".join(f"{edit.path} ({edit.change})" for edit in record.changed_files[:10])
        more = len(record.changed_files) - 10
        text += f"; it wrote {edits}" + (f" and {more} more" if more > 0 else "")
    return text


class Progress:
    """Receives pool events and shows them; `close()` ends the live display."""

    def __init__(
        self,
        run: RunStarted,
        env: Mapping[str, str],
        *,
        stream: TextIO | None = None,
        verbose: bool = False,
    ) -> None:
        self.plan = run.plan
        self.run_dir = run.run_dir
        self.masker = run.masker
        self.verbose = verbose
        self.github = env.get("GITHUB_ACTIONS") == "true"
        self.stream = stream
        self.live_mode = _is_terminal(stream or sys.stdout) and env.get("CI", "").lower() not in (
            "true",
            "1",
        )
        self.started: dict[str, float] = {}
        self.ended: dict[str, StageRecord] = {}
        self.live: Live | None = None
        self._pending: list[str] = []  # lines said before the live display is up
        self._lock = threading.Lock()
        self._first = threading.Event()  # the first stage was announced
        self._starter: threading.Thread | None = None
        if self.live_mode:
            self._starter = threading.Thread(
                target=self._start_live, name="workflow-live", daemon=True
            )
            self._starter.start()

    def _start_live(self) -> None:
        # rich takes about 40 ms to load: it loads here, once the first stage has been
        # announced, so that no stage waits for the display that shows it.
        self._first.wait()
        console_type, live_type = _console(), _live()
        console = console_type(file=self.stream, highlight=False, soft_wrap=True)
        live = live_type(
            console=console, refresh_per_second=REFRESH_PER_SECOND, get_renderable=self._table
        )
        with self._lock:
            live.start()
            for text in self._pending:
                live.console.print(text, markup=False, highlight=False)
            self._pending.clear()
            self.live = live

    def __call__(self, event: StageEvent) -> None:
        """Handle one pool event."""
        self._first.set()
        if event.kind == "start":
            self.started[event.name] = time.monotonic()
            if not self.live_mode:
                note = f" ({event.detail}: yields the CPU to longer stages)" if event.detail else ""
                self._print(f"started {event.name}{note}")
        elif event.kind == "retry":
            self._print(f"{event.name}: failed, {event.detail}")
        elif event.kind == "end" and event.record is not None:
            self.ended[event.name] = event.record
            self._show_end(event.record)
        if self.live is not None:
            self.live.refresh()  # a start or an end shows at once, not at the next tick

    def close(self) -> None:
        """Stop the live display (its last frame stays on screen)."""
        if self._starter is not None:
            self._first.set()
            self._starter.join()
            self._starter = None
        if self.live is not None:
            self.live.stop()  # draws the last frame
            self.live = None

    def _print(self, text: str) -> None:
        text = self.masker.mask(text)  # names, errors and tails alike: nothing unmasked
        with self._lock:
            if self.live is not None:
                self.live.console.print(text, markup=False, highlight=False)
                return
            if self.live_mode:
                self._pending.append(text)
                return
        stream = self.stream or sys.stdout
        stream.write(text + "\n")
        stream.flush()

    def _show_end(self, record: StageRecord) -> None:
        if not self.live_mode:
            self._print(describe_end(record))
        log = self.run_dir / record.log if record.log else None
        if self.github and log is not None:
            self._print_group(record, log)
        elif log is not None and (self.verbose or record.status in _FAILED):
            if self.verbose:
                lines, header = tail_lines(log, 10**9), "output"
            else:
                lines, header = failure_lines(tail_lines(log, SCANNED_LINES), TAIL_LINES)
            if not lines:
                header = "no output"
            block = [f"--- {record.name}: {header} ({log}) ---", *lines, "---"]
            self._print("\n".join(self.masker.mask(line) for line in block))

    def _print_group(self, record: StageRecord, log: Path) -> None:
        size = log.stat().st_size if log.is_file() else 0
        lines = tail_lines(log, 10**9, GROUP_MAX_BYTES)
        note = [] if size <= GROUP_MAX_BYTES else [f"(last {GROUP_MAX_BYTES // 1024} KiB of {log})"]
        body = "\n".join(self.masker.mask(line) for line in [*note, *lines])
        self._print(f"::group::{describe_end(record)}\n{body}\n::endgroup::")

    def _table(self) -> Table:
        """The table as it is now: called by the refresh thread at every redraw.

        It reads `started` and `ended` by key only (never iterating them), so the pool's
        event thread may add to them meanwhile.
        """
        table = _table()(expand=False)
        for column in ("stage", "state", "elapsed", "eta"):
            table.add_column(column)
        now = time.monotonic()
        for stage in self.plan.stages:
            record = self.ended.get(stage.name)
            started = self.started.get(stage.name)
            if record is not None and record.cache_hit:
                table.add_row(stage.name, "passed (cached)", "", "")
            elif record is not None:
                table.add_row(stage.name, record.status.value, fixed_seconds(record.duration_s), "")
            elif started is not None:
                elapsed = now - started
                left = eta(stage.expected_s, elapsed)
                table.add_row(stage.name, "running", fixed_seconds(elapsed), left)
            else:
                table.add_row(stage.name, "waiting", "", eta(stage.expected_s, 0.0))
        return table


def eta(expected_s: float | None, elapsed_s: float) -> str:
    """What is left of a stage by its history: "12s" counting down, "+3s" once it runs
    longer than expected, "" when history does not know the stage."""
    if expected_s is None:
        return ""
    left = expected_s - elapsed_s
    return fixed_seconds(left, 0) if left >= 0 else f"+{fixed_seconds(-left, 0)}"


_FAILED = (StageStatus.FAILED, StageStatus.TIMEOUT, StageStatus.ERROR)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        return False


def _console() -> type[Console]:
    # rich loads only for a live display; plain lines need none of it.
    from rich.console import Console  # noqa: PLC0415 - see the comment above

    return Console


def _live() -> type[Live]:
    # rich loads only for a live display; plain lines need none of it.
    from rich.live import Live  # noqa: PLC0415 - see the comment above

    return Live


def _table() -> type[Table]:
    # rich loads only for a live display; plain lines need none of it.
    from rich.table import Table  # noqa: PLC0415 - see the comment above

    return Table
