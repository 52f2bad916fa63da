"""The values a trend analysis produces: what changed, how sure we are, and how much room is left.

Frozen and free of rendering concerns: the HTML, markdown and JSON reports and the exit
code of `workflow trend --fail-on-regression` all read the same `TrendReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orchestrator.model.config import TrendConfig
from orchestrator.model.units import fixed_seconds

WHOLE_RUN = "whole run"


class Verdict(StrEnum):
    """What the recent runs of a series say compared with their baseline."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    STABLE = "stable"
    INSUFFICIENT = "insufficient"  # too few runs to judge


@dataclass(frozen=True)
class Point:
    """One run's measurement in a series (seconds, percent or bytes)."""

    run_id: str
    started_at: str
    value: float


@dataclass(frozen=True)
class Comparison:
    """The recent window against its baseline: medians, the shift, one-sided p-values."""

    baseline_n: int
    recent_n: int
    baseline_median: float
    recent_median: float
    change: float  # relative shift of the level (0.3 is 30% higher), from the logs
    p_greater: float
    p_less: float

    @property
    def delta(self) -> float:
        """How far the level moved, in the series' unit."""
        return self.baseline_median * self.change


@dataclass(frozen=True)
class Step:
    """A shift of level inside a series: from this run on, the median moved."""

    index: int  # position of the first run at the new level, in the series' points
    run_id: str
    started_at: str
    before: float
    after: float
    p_value: float

    @property
    def change(self) -> float:
        """The relative size of the shift."""
        return self.after / self.before - 1.0 if self.before > 0 else 0.0


@dataclass(frozen=True)
class ResourceTrend:
    """CPU use or peak memory of a stage, recent against baseline."""

    metric: str  # "cpu_percent" or "peak_rss_bytes"
    comparison: Comparison
    direction: str  # "up", "down" or "flat"


@dataclass(frozen=True)
class Headroom:
    """How close the stage's p95 duration comes to its SLA target."""

    target_s: float
    p95_s: float
    warning_ratio: float
    samples: int

    @property
    def headroom_s(self) -> float:
        """Seconds left under the target at p95 (negative: over it)."""
        return self.target_s - self.p95_s

    @property
    def used(self) -> float:
        """The share of the target that p95 uses (1.0 is exactly at the target)."""
        return self.p95_s / self.target_s if self.target_s > 0 else float("inf")

    @property
    def status(self) -> str:
        """ok, warning (past the warning ratio) or breach (past the target)."""
        if self.p95_s > self.target_s:
            return "breach"
        return "warning" if self.used >= self.warning_ratio else "ok"


@dataclass(frozen=True)
class SeriesTrend:
    """The verdict on one stage (or the whole run) of one lane and runner class."""

    name: str
    is_run: bool
    points: tuple[Point, ...]  # oldest first: every run read that measured it
    verdict: Verdict
    reason: str
    comparison: Comparison | None = None
    steps: tuple[Step, ...] = ()
    cpu: ResourceTrend | None = None
    memory: ResourceTrend | None = None
    headroom: Headroom | None = None

    @property
    def judged(self) -> tuple[Point, ...]:
        """The points of the recent window (the ones a regression is about)."""
        if self.comparison is None:
            return ()
        return self.points[len(self.points) - self.comparison.recent_n :]


@dataclass(frozen=True)
class GroupTrend:
    """Every series of one lane on one runner class: only these runs are comparable."""

    lane: str
    runner_class: str
    runs: int
    whole_run: SeriesTrend
    stages: tuple[SeriesTrend, ...]
    degradations: tuple[str, ...] = ()  # the seed's throughput rule: lines, not failures

    @property
    def series(self) -> tuple[SeriesTrend, ...]:
        """The whole run first, then the stages in their declared order."""
        return (self.whole_run, *self.stages)

    @property
    def regressions(self) -> tuple[SeriesTrend, ...]:
        """The series whose recent runs are slower for real."""
        return tuple(s for s in self.series if s.verdict is Verdict.REGRESSION)


# Below this a duration is at the JUnit file's resolution: a change from it has no ratio.
RATIO_FROM_S = 0.01


def rise_text(before_s: float, after_s: float) -> str:
    """How much longer: "+0.300s, +60%", or "+0.081s" from a near-zero start."""
    rise = fixed_seconds(after_s - before_s, 3, signed=True)
    if before_s < RATIO_FROM_S:
        return rise
    return f"{rise}, {after_s / before_s - 1.0:+.0%}"


@dataclass(frozen=True)
class TestStep:
    """A test that got slower from run `run_id` on (its first run at the new level), with
    the commits of the run before it and of that run when they were recorded."""

    __test__ = False

    test_id: str
    run_id: str
    commit_before: str | None
    commit_first: str | None
    before_s: float
    after_s: float
    p_value: float

    @property
    def commits(self) -> str | None:
        """The commit range "before..first" (12 hex digits each), when both are known."""
        if not self.commit_before or not self.commit_first:
            return None
        return f"{self.commit_before[:12]}..{self.commit_first[:12]}"

    @property
    def change(self) -> float | None:
        """Relative: 0.3 is 30% slower; None from a near-zero start (no ratio means much)."""
        return self.after_s / self.before_s - 1.0 if self.before_s >= RATIO_FROM_S else None

    def line(self, stage: str) -> str:
        """One line for a report or the terminal."""
        where = f" (commits {self.commits})" if self.commits else ""
        return (
            f"{stage} {self.test_id}: {fixed_seconds(self.before_s, 3)} -> "
            f"{fixed_seconds(self.after_s, 3)} "
            f"({rise_text(self.before_s, self.after_s)}) from run {self.run_id}{where}"
        )


@dataclass(frozen=True)
class SlowerTest:
    """A test of one stage of one lane that got slower (per-test rows of the history)."""

    __test__ = False

    lane: str
    stage: str
    step: TestStep

    def line(self) -> str:
        """`lane: stage test: before -> after (+x%) from run R (commits a..b)`."""
        return f"{self.lane}: {self.step.line(self.stage)}"


@dataclass(frozen=True)
class TestCause:
    """A test's part in a stage's slowdown: its typical seconds before and after."""

    __test__ = False

    test_id: str
    before_s: float | None  # None: it did not run before (a new test)
    after_s: float

    @property
    def added_s(self) -> float:
        """Seconds it adds to the stage."""
        return self.after_s - (self.before_s or 0.0)

    def words(self) -> str:
        """ "new test t.py::test_big (11.020s)" or "t.py::test_x 0.200s -> 0.900s"."""
        if self.before_s is None:
            return f"new test {self.test_id} ({fixed_seconds(self.after_s, 3)})"
        return (
            f"{self.test_id} {fixed_seconds(self.before_s, 3)} -> {fixed_seconds(self.after_s, 3)}"
        )


@dataclass(frozen=True)
class StageSlowdown:
    """Why a stage got slower from run `run_id` on: the tests that explain the rise, and
    how the test set changed there (tests that ran from then on and never before, and
    tests that stopped running)."""

    lane: str
    stage: str
    run_id: str
    before_s: float  # the stage's median before, seconds
    after_s: float  # and from `run_id` on
    causes: tuple[TestCause, ...]
    new_tests: int
    gone_tests: int

    @property
    def explained_s(self) -> float:
        """Seconds of the rise its named tests add."""
        return sum(cause.added_s for cause in self.causes)

    def line(self) -> str:
        """E.g. "heavy: unit 20.1s -> 31.3s from run R: new test t.py::test_big (11.020s)
        adds 11.0s of the 11.2s; the test set changed: 3 new, 1 gone"."""
        head = (
            f"{self.lane}: {self.stage} {fixed_seconds(self.before_s)} -> "
            f"{fixed_seconds(self.after_s)} "
            f"from run {self.run_id}"
        )
        if self.causes:
            named = "; ".join(cause.words() for cause in self.causes)
            verb = "adds" if len(self.causes) == 1 else "add"
            head += (
                f": {named} {verb} {fixed_seconds(self.explained_s)} of the "
                f"{fixed_seconds(self.after_s - self.before_s)}"
            )
        else:
            head += ": no test explains it (start-up, collection or fixtures outside the tests)"
        if self.new_tests or self.gone_tests:
            head += f"; the test set changed: {self.new_tests} new, {self.gone_tests} gone"
        return head


@dataclass(frozen=True)
class TrendReport:
    """All groups found in the history that was read, with the settings that judged them,
    the tests that got slower (by lane and stage; empty without per-test history), and
    for each stage that got slower, the tests that explain it."""

    settings: TrendConfig
    groups: tuple[GroupTrend, ...]
    runs_read: int
    slower_tests: tuple[SlowerTest, ...] = ()
    slowdowns: tuple[StageSlowdown, ...] = ()  # stages that got slower, and which tests did it

    @property
    def has_regression(self) -> bool:
        """What `--fail-on-regression` turns into exit code 4."""
        return any(group.regressions for group in self.groups)
