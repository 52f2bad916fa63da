"""What a run's per-test rows tell the history of its pytest processes: their overhead."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.model.records import StageCache, StagePart
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import Outcome, TestCase, TestsSummary
from orchestrator.pipeline.testrows import process_overhead
from tests.helpers.trends_data import stage


def cases(*seconds: float) -> list[TestCase]:
    return [TestCase(f"t.py::t{i}", Outcome.PASSED, s) for i, s in enumerate(seconds)]


def part(index: int, duration: float) -> StagePart:
    return StagePart(part=f"{index}/3", status=StageStatus.PASSED, duration_s=duration)


WHOLE = replace(stage("unit", 12.0), attempts=1, tests=TestsSummary(total=2, duration_s=9.0))


def test_a_whole_stage_pays_its_wall_time_beyond_its_tests() -> None:
    assert process_overhead(WHOLE, [cases(4.0, 5.0)]) == 3.0


def test_a_split_stage_pays_the_median_of_its_parts() -> None:
    # The stage's own wall time (12 s, to its last part's end) says nothing of one process.
    split = replace(WHOLE, parts=(part(1, 6.0), part(2, 9.0), part(3, 5.5)))
    each = [cases(2.0, 2.0), cases(4.0, 1.0), cases(5.0)]
    assert process_overhead(split, each) == 2.0  # 2.0, 4.0 and 0.5 beyond their tests


def test_no_overhead_is_learned_where_the_wall_time_holds_other_work() -> None:
    rerun = replace(WHOLE, tests=TestsSummary(total=2, duration_s=9.0, reruns=1))
    retried = replace(WHOLE, attempts=2)
    cached = replace(WHOLE, cache=StageCache(hit=True, key="k", from_run="r", saved_s=12.0))
    for record in (rerun, retried, cached):
        assert process_overhead(record, [cases(4.0, 5.0)]) is None
    assert process_overhead(WHOLE, [[]]) is None  # no test was read
