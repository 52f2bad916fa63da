"""The finding "a few tests take most of a stage": mark them and run them on their own.

Read from the stage's `tests` summary (its ten slowest tests and the tests' summed time).
A finding needs a real suite (at least `MIN_TESTS` tests, `MIN_STAGE_S` of test time) in
which the slow ones among the ten slowest (each over `SLOW_FACTOR` times the mean test
time), at most a fifth of the suite, take `MOST` of the time.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.model.findingkinds import FindingKind
from orchestrator.model.records import Bottleneck, StageRecord
from orchestrator.model.units import fixed_seconds
from orchestrator.model.whatif import Replayed, WhatIf

MOST = 0.5  # share of the tests' time
SLOW_FACTOR = 10.0  # a "slow" test takes ten times the suite's mean test time
MIN_TESTS = 20
MIN_STAGE_S = 2.0
KIND = FindingKind.SLOW_TESTS


def few_tests_finding(stage: StageRecord, replay: Replayed) -> Bottleneck | None:
    """The finding for one stage, or None.

    Its saving is the replay's answer to "the few tests run as a stage of their own": the
    stage then lasts as long as the longer of its two parts (the few, the rest), which is
    at best half of it, and only shortens the run when the stage was on its path.
    """
    tests = stage.tests
    if tests is None or tests.total < MIN_TESTS or tests.duration_s < MIN_STAGE_S:
        return None
    mean = tests.duration_s / tests.total
    few = [slow for slow in tests.slowest if slow.duration_s >= SLOW_FACTOR * mean]
    taken = sum(slow.duration_s for slow in few)
    share = taken / tests.duration_s
    if not few or share < MOST or len(few) > tests.total / 5:
        return None
    part = max(taken, tests.duration_s - taken) / tests.duration_s
    return Bottleneck(
        kind=KIND,
        stage=stage.name,
        detail=(
            f"{len(few)} of {tests.total:,} tests take {share:.0%} of {stage.name} "
            f"({fixed_seconds(taken)} of {fixed_seconds(tests.duration_s)} of test time)"
        ),
        recommendation=(
            "mark them and run them as their own stage: its parts cannot cut a test in two"
            if stage.parts
            else "mark them and run them as their own stage, or split the stage"
        ),
        saving_s=round(replay.saving(WhatIf(stage=stage.name, factor=part)), 2),
    )


def slow_test_findings(stages: Iterable[StageRecord], replay: Replayed) -> list[Bottleneck]:
    """The finding for every stage that has one, in the stages' order."""
    found = (few_tests_finding(stage, replay) for stage in stages)
    return [f for f in found if f is not None]
