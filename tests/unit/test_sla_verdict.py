"""SLA verdicts on hand-built run records."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.records import PoolRecord, SlaStatus, StageRecord, StageStatus
from sla.targets import SlaPolicy
from sla.verdict import SEVERITY, SlaManager, against_target, apply_sla, judge_stage
from tests.helpers.reports_samples import policy, record, stage


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (0.0, SlaStatus.OK),
        (23.9, SlaStatus.OK),
        (24.0, SlaStatus.WARNING),  # at warning_ratio x target
        (30.0, SlaStatus.WARNING),  # at the target: still within it
        (30.01, SlaStatus.BREACH),
    ],
)
def test_duration_against_a_30s_target(duration: float, expected: SlaStatus) -> None:
    assert against_target(duration, 30.0, ratio=0.8, critical=False) is expected


def test_a_breach_of_a_critical_stage_is_critical() -> None:
    assert against_target(31, 30, ratio=0.8, critical=True) is SlaStatus.CRITICAL
    assert against_target(29, 30, ratio=0.8, critical=True) is SlaStatus.WARNING


def test_no_target_no_verdict() -> None:
    assert against_target(1000, None, ratio=0.8, critical=True) is SlaStatus.NONE


def test_a_timeout_is_a_breach_even_when_the_clock_says_otherwise() -> None:
    # The process tree was ended at the stage's own timeout, shorter than its SLA target.
    timed_out = stage("lint", 5.0, status=StageStatus.TIMEOUT, exit_code=124)
    assert judge_stage(timed_out, policy(lint=30)).status is SlaStatus.BREACH
    timed_out_unit = stage("unit", 5.0, status=StageStatus.TIMEOUT, exit_code=124)
    assert judge_stage(timed_out_unit, policy(unit=30)).status is SlaStatus.CRITICAL


@pytest.mark.parametrize("status", [StageStatus.SKIPPED, StageStatus.CANCELLED])
def test_skipped_and_cancelled_stages_are_not_judged(status: StageStatus) -> None:
    verdict = judge_stage(stage("unit", 500.0, status=status), policy(unit=30))
    assert verdict.status is SlaStatus.NONE
    assert verdict.target_s == 30  # still shown, so the report can say what applied


def test_a_failed_stage_is_still_held_to_its_target() -> None:
    failed = stage("lint", 50.0, status=StageStatus.FAILED, exit_code=1)
    assert judge_stage(failed, policy(lint=30)).status is SlaStatus.BREACH


def test_memory_targets() -> None:
    rules = SlaPolicy(
        targets_s={"unit": 60},
        max_rss_bytes={"unit": 1000},
        critical=frozenset({"unit"}),
    )
    assert judge_stage(stage("unit", peak_rss_bytes=500), rules).rss_status is SlaStatus.OK
    assert judge_stage(stage("unit", peak_rss_bytes=900), rules).rss_status is SlaStatus.WARNING
    over = judge_stage(stage("unit", peak_rss_bytes=1001), rules)
    assert over.rss_status is SlaStatus.CRITICAL
    assert over.status is SlaStatus.OK
    assert over.max_rss_bytes == 1000


def test_apply_sla_fills_every_stage_and_the_run() -> None:
    run = record(
        stage("lint", 10.0),
        stage("typecheck", 26.0),
        stage("unit", 40.0, status=StageStatus.FAILED, exit_code=1),
        stage("docs", 1.0, status=StageStatus.SKIPPED),
        exit_code=1,
        pool=PoolRecord(total_duration_s=950.0),
    )
    judged = apply_sla(run, policy(lint=30, typecheck=30, unit=30, docs=30))
    statuses = {s.name: s.sla.status for s in judged.stages}
    assert statuses == {
        "lint": SlaStatus.OK,
        "typecheck": SlaStatus.WARNING,
        "unit": SlaStatus.CRITICAL,
        "docs": SlaStatus.NONE,
    }
    assert judged.sla.critical_violation
    assert judged.sla.budget_status is SlaStatus.BREACH
    assert judged.sla.violations == (
        "unit: took 40.0s, over its 30s target (critical)",
        "run: took 950s, over the lane budget of 900s",
    )
    assert judged.sla.warnings == ("typecheck: took 26.0s, 87% of its 30s target",)
    assert judged.exit_code == 1  # the run command decides exit codes, not the verdict


def test_apply_sla_leaves_a_passing_run_at_exit_0_even_with_a_critical_breach() -> None:
    judged = apply_sla(record(stage("unit", 99.0)), policy(unit=30))
    assert judged.sla.critical_violation
    assert judged.exit_code == 0


def test_the_budget_falls_back_to_the_last_stage_end() -> None:
    run = record(stage("lint", 500.0), stage("unit", 500.0, start_offset_s=450.0))
    judged = apply_sla(run, policy(lint=600, unit=600))
    assert judged.sla.budget_status is SlaStatus.BREACH


def test_the_seed_style_manager() -> None:
    manager = SlaManager(policy(lint=30, unit=30))
    assert manager.check_all_stages([stage("lint", 1.0), stage("unit", 2.0)])
    assert manager.violations == []
    assert not manager.check_all_stages([stage("lint", 25.0), stage("unit", 31.0)])
    assert manager.violations == ["unit: took 31.0s, over its 30s target (critical)"]
    assert manager.warnings == ["lint: took 25.0s, 83% of its 30s target"]
    assert manager.critical_violation
    assert [s.sla.status for s in manager.stages] == [SlaStatus.WARNING, SlaStatus.CRITICAL]


def test_the_manager_checks_the_budget_of_a_whole_record() -> None:
    manager = SlaManager(policy(lint=1000))
    run = record(stage("lint", 950.0))
    assert not manager.check_all_stages(run)
    assert manager.violations == ["run: took 950s, over the lane budget of 900s"]
    assert not manager.critical_violation


durations = st.floats(min_value=0, max_value=10_000, allow_nan=False)
targets = st.floats(min_value=0.1, max_value=5_000, allow_nan=False)
ratios = st.floats(min_value=0.05, max_value=1.0)
statuses = st.sampled_from(list(StageStatus))


@given(durations, durations, targets, ratios, st.booleans(), statuses)
def test_raising_a_duration_never_improves_the_status(  # noqa: PLR0913 - one per hypothesis strategy
    first: float, second: float, target: float, ratio: float, critical: bool, status: StageStatus
) -> None:
    shorter, longer = sorted((first, second))
    rules = SlaPolicy(
        targets_s={"s": target},
        critical=frozenset({"s"} if critical else ()),
        warning_ratio=ratio,
    )
    fast = judge_stage(stage("s", shorter, status=status), rules).status
    slow = judge_stage(stage("s", longer, status=status), rules).status
    assert SEVERITY[slow] >= SEVERITY[fast]


@given(durations, targets, ratios)
def test_a_timeout_is_never_better_than_the_same_duration_passed(
    duration: float, target: float, ratio: float
) -> None:
    rules = SlaPolicy(targets_s={"s": target}, warning_ratio=ratio)
    passed = judge_stage(stage("s", duration), rules).status
    timed_out = judge_stage(stage("s", duration, status=StageStatus.TIMEOUT), rules).status
    assert SEVERITY[timed_out] >= SEVERITY[passed]
    assert timed_out is SlaStatus.BREACH


@given(durations, targets, ratios)
def test_making_a_stage_critical_only_turns_breaches_critical(
    duration: float, target: float, ratio: float
) -> None:
    plain = against_target(duration, target, ratio=ratio, critical=False)
    critical = against_target(duration, target, ratio=ratio, critical=True)
    expected = SlaStatus.CRITICAL if plain is SlaStatus.BREACH else plain
    assert critical is expected


stage_lists = st.lists(
    st.builds(
        stage,
        st.sampled_from(["lint", "typecheck", "unit", "integration", "security"]),
        durations,
        status=statuses,
    ),
    max_size=6,
)


@given(stage_lists, st.integers(min_value=0, max_value=143))
def test_apply_sla_is_idempotent_and_keeps_the_exit_code(
    stages: list[StageRecord], exit_code: int
) -> None:
    rules = policy(lint=30, typecheck=30, unit=60, integration=60)
    once = apply_sla(record(*stages, exit_code=exit_code), rules)
    assert apply_sla(once, rules) == once
    assert once.exit_code == exit_code
    assert once.sla.critical_violation == any(
        s.sla.status is SlaStatus.CRITICAL for s in once.stages
    )
    judged = [s for s in once.stages if s.sla.status is not SlaStatus.NONE]
    assert len(once.sla.violations) >= sum(
        1 for s in judged if s.sla.status in (SlaStatus.BREACH, SlaStatus.CRITICAL)
    )


def test_a_short_timeout_says_why_it_counts_as_a_breach() -> None:
    run = record(stage("lint", 5.0, status=StageStatus.TIMEOUT, exit_code=124), exit_code=1)
    judged = apply_sla(run, policy(lint=30))
    assert judged.sla.violations == (
        "lint: timed out after 5.0s, which counts as over its 30s target",
    )
