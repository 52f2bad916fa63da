"""Per-test results: one test's outcome, and the summary a stage's record carries.

A JUnit file can list 10,000 tests; the run record keeps only the summary (counts, the
ten slowest, at most 50 failed ids, the flaky ones), while the history keeps every test
(DESIGN.md, "Per-test results"). Durations are seconds.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

SLOWEST = 10
MAX_FAILED_IDS = 50


class Outcome(StrEnum):
    """How one test ended; FLAKY: failed, then passed when run again in the same run."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    FLAKY = "flaky"

    @property
    def bad(self) -> bool:
        """Failed or errored: what a rerun retries and a report lists."""
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True)
class TestCase:
    """One test as its JUnit file reports it; `file`/`line` when the tool wrote them."""

    __test__ = False  # not a pytest test class, whatever its name

    id: str
    outcome: Outcome
    duration_s: float = 0.0
    file: str | None = None
    line: int | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class SlowTest:
    """One of a stage's slowest tests."""

    id: str
    duration_s: float


@dataclass(frozen=True, kw_only=True)
class FailedTest:
    """A failed test with where it failed, for annotations (file/line may be unknown)."""

    id: str
    file: str | None = None
    line: int | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class TestSelection:
    """A stage record's `tests.selection` (DESIGN "Test selection").

    `mode`: "affected", "shadow" or "all". `total`: the tests the stage would run
    without selection; `selected`: the tests selection runs (`affected`), or would run
    (`shadow`, which runs them all). `reason`: why (the changed pieces, or why everything
    runs). `escapes`: in shadow mode, tests `affected` would have skipped that failed.
    `files`: the selection's files in the run directory (its decision, and what each
    pytest process selected and learned), relative to it.
    """

    __test__ = False

    mode: str
    selected: int
    total: int
    reason: str
    escapes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """ "ran 42 of 1,294 tests (changed: src/pkg/core.py: Parser.parse)"; in shadow
        mode what `affected` would have run, and its escapes."""
        if self.mode == "shadow":
            text = (
                f"shadow: ran all {self.total:,} tests; affected would have run "
                f"{self.selected:,} ({self.reason})"
            )
            if self.escapes:
                shown = ", ".join(self.escapes[:3])
                more = f" and {len(self.escapes) - 3} more" if len(self.escapes) > 3 else ""
                return f"{text}; ESCAPES: {len(self.escapes)} skipped test(s) failed: {shown}{more}"
            return f"{text}; no escapes"
        return f"ran {self.selected:,} of {self.total:,} tests ({self.reason})"


@dataclass(frozen=True, kw_only=True)
class TestsSummary:
    """A stage record's `tests`: counts, the slowest, the failed (at most 50), the flaky.

    `failed` counts tests still failing after any reruns; a flaky test counts as passed.
    `duration_s` is the sum of the tests' own times (the share of the slowest is of it
    when the stage's wall time is unknown). `junit` is the file the counts came from,
    relative to the run directory when it lies inside it. `not_run`: tests the session
    was given that never ran (it stopped early: the stage failed). `rootdir`: where the
    ids' paths start (pytest's rootdir), relative to the repository root ("" for the
    root itself; `failures` files are already relative to that root).
    """

    __test__ = False

    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    duration_s: float = 0.0
    slowest: tuple[SlowTest, ...] = ()
    failed_ids: tuple[str, ...] = ()
    failures: tuple[FailedTest, ...] = ()
    flaky: tuple[str, ...] = ()
    reruns: int = 0
    junit: str | None = None
    not_run: int = 0
    rootdir: str | None = None
    # With `select`: `total` is what the stage would run without selection, the other
    # counts are of the tests that ran.
    selection: TestSelection | None = None


def summarize(
    cases: Sequence[TestCase], flaky: Iterable[str] = (), *, reruns: int = 0
) -> TestsSummary:
    """The summary of `cases`; ids in `flaky` count as passed and are listed as flaky."""
    flaky_ids = set(flaky)
    outcomes = [Outcome.PASSED if c.id in flaky_ids else c.outcome for c in cases]
    counts = Counter(outcomes)
    failed = [c for c, o in zip(cases, outcomes, strict=True) if o.bad][:MAX_FAILED_IDS]
    # The ten longest out of thousands: a partial selection, not a sort of them all.
    slowest = heapq.nsmallest(SLOWEST, cases, key=lambda c: (-c.duration_s, c.id))
    return TestsSummary(
        total=len(cases),
        passed=counts[Outcome.PASSED],
        failed=counts[Outcome.FAILED],
        skipped=counts[Outcome.SKIPPED],
        errors=counts[Outcome.ERROR],
        duration_s=round(sum(c.duration_s for c in cases), 4),
        slowest=tuple(SlowTest(id=c.id, duration_s=round(c.duration_s, 4)) for c in slowest),
        failed_ids=tuple(c.id for c in failed),
        failures=tuple(
            FailedTest(id=c.id, file=c.file, line=c.line, message=_one_line(c.message))
            for c in failed
        ),
        flaky=tuple(sorted(flaky_ids & {c.id for c in cases})),
        reruns=reruns,
    )


def final_outcomes(cases: Sequence[TestCase], flaky: Iterable[str]) -> list[TestCase]:
    """The cases as the history keeps them: a test that flipped is FLAKY, not passed."""
    flaky_ids = set(flaky)
    return [
        TestCase(c.id, Outcome.FLAKY, c.duration_s, c.file, c.line, c.message)
        if c.id in flaky_ids
        else c
        for c in cases
    ]


def _one_line(message: str | None) -> str | None:
    if not message:
        return None
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:300] or None


def merge_summaries(summaries: Sequence[TestsSummary]) -> TestsSummary:
    """One summary of a stage whose tests ran in parts (a split stage, its shards): the
    counts added, the ten slowest and the first 50 failed of them all, every flaky test.
    `junit` is None: each part keeps its own file. Parts that carry a selection (shards
    of a selected split stage) share it: its total is each part's, its files all of theirs.
    """
    slowest = sorted(
        (test for s in summaries for test in s.slowest), key=lambda t: (-t.duration_s, t.id)
    )
    selections = [s.selection for s in summaries if s.selection is not None]
    ran = sum(s.passed + s.failed + s.skipped + s.errors for s in summaries)
    return TestsSummary(
        total=max(t.total for t in selections) if selections else sum(s.total for s in summaries),
        passed=sum(s.passed for s in summaries),
        failed=sum(s.failed for s in summaries),
        skipped=sum(s.skipped for s in summaries),
        errors=sum(s.errors for s in summaries),
        duration_s=round(sum(s.duration_s for s in summaries), 4),
        slowest=tuple(slowest[:SLOWEST]),
        failed_ids=tuple(i for s in summaries for i in s.failed_ids)[:MAX_FAILED_IDS],
        failures=tuple(f for s in summaries for f in s.failures)[:MAX_FAILED_IDS],
        flaky=tuple(sorted({test for s in summaries for test in s.flaky})),
        reruns=max((s.reruns for s in summaries), default=0),
        not_run=sum(s.not_run for s in summaries),
        rootdir=next((s.rootdir for s in summaries if s.rootdir is not None), None),
        selection=merge_selections(selections, ran) if selections else None,
    )


def merge_selections(selections: Sequence[TestSelection], ran: int) -> TestSelection:
    """One selection of a stage whose parts each carried one (`ran`: the tests its parts
    ran together): the decision was the stage's, so mode, total and reason are shared."""
    first = selections[0]
    shadow = first.mode == "shadow"
    return TestSelection(
        mode=first.mode,
        selected=max(s.selected for s in selections) if shadow else ran,
        total=max(s.total for s in selections),
        reason=first.reason,
        escapes=tuple(sorted({e for s in selections for e in s.escapes})),
        files=tuple(dict.fromkeys(f for s in selections for f in s.files)),
    )
