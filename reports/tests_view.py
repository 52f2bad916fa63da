"""Per-test facts every report shows: failed tests, the slowest with their share, flaky.

Built from each stage's `tests` summary of a scrubbed record (`reports.view`), so every
test id and message is already cleaned and masked.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.model.records import RunRecord
from orchestrator.model.testresults import FailedTest, TestsSummary


@dataclass(frozen=True)
class SlowRow:
    """One of the slowest tests; `share` of the stage's test time, 0..1."""

    id: str
    duration_s: float
    share: float


@dataclass(frozen=True)
class StageTests:
    """One stage's tests as the reports show them."""

    stage: str
    summary: TestsSummary
    slowest: tuple[SlowRow, ...]

    @property
    def failures(self) -> tuple[FailedTest, ...]:
        """Failed tests (at most 50), with file and line when known."""
        return self.summary.failures

    @property
    def counts(self) -> str:
        """ "1,294 tests: 1,280 passed, 2 failed, 12 skipped" (zero counts left out)."""
        s = self.summary
        parts = [f"{s.passed:,} passed"]
        parts += [
            f"{count:,} {word}"
            for count, word in ((s.failed, "failed"), (s.errors, "errors"), (s.skipped, "skipped"))
            if count
        ]
        if s.flaky:
            parts.append(f"{len(s.flaky)} flaky")
        ran = s.passed + s.failed + s.errors + s.skipped
        if s.selection is not None and ran != s.total:
            return f"{ran:,} of {s.total:,} tests ran: {', '.join(parts)}"
        return f"{s.total:,} tests: {', '.join(parts)}"

    @property
    def selection(self) -> str | None:
        """ "ran 42 of 1,294 tests (changed: ...)", for a stage with test selection."""
        found = self.summary.selection
        return None if found is None else found.line

    @property
    def escapes(self) -> tuple[str, ...]:
        """Tests selection would have skipped that failed (shadow mode)."""
        found = self.summary.selection
        return () if found is None else found.escapes

    @property
    def more_failed(self) -> int:
        """Failed tests not listed (the record keeps at most 50)."""
        return max(0, self.summary.failed + self.summary.errors - len(self.summary.failures))


def stage_tests(record: RunRecord) -> tuple[StageTests, ...]:
    """The stages that reported tests, in the record's order."""
    found: list[StageTests] = []
    for stage in record.stages:
        summary = stage.tests
        if summary is None:
            continue
        total = summary.duration_s
        slowest = tuple(
            SlowRow(t.id, t.duration_s, t.duration_s / total if total > 0 else 0.0)
            for t in summary.slowest
        )
        found.append(StageTests(stage.name, summary, slowest))
    return tuple(found)
