"""What each strategy means is one table: every strategy has a row, the readers follow
it, and "CPU-bound" is one threshold in one unit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.scheduling.sizing import Machine, StageDemand, size_pool
from orchestrator.model.config import Strategy
from orchestrator.model.strategies import (
    CPU_BOUND_CORES,
    RULES,
    default_demand,
    is_cpu_bound,
    rules_for,
)

MACHINE = Machine(affinity_cpus=4, quota_cpus=None, memory_available=2**34, memory_total=2**34)


def test_every_strategy_has_one_row_and_a_record_reads_the_same_row() -> None:
    assert set(RULES) == set(Strategy)
    for strategy, rules in RULES.items():
        assert rules_for(strategy.value) == rules
    assert [s for s, r in RULES.items() if r.one_worker] == [Strategy.SEQUENTIAL]
    assert [s for s, r in RULES.items() if r.budget_cores] == [Strategy.ADAPTIVE]


def test_a_strategy_the_table_does_not_know_runs_like_one_without_a_core_budget() -> None:
    rules = rules_for("from-a-later-version")
    assert not rules.one_worker
    assert not rules.budget_cores


@given(st.sampled_from(list(Strategy)), st.integers(1, 16), st.booleans())
def test_pool_sizing_follows_the_table(strategy: Strategy, workers: int, cpu: bool) -> None:
    demands = [StageDemand("a", cpu), StageDemand("b", not cpu)]
    size, reason = size_pool(strategy, workers, demands, MACHINE)
    assert (size == 1) if RULES[strategy].one_worker else (size == workers)
    auto = size_pool(strategy, "auto", demands, MACHINE)[1]
    assert ("admitted up to" in auto) is RULES[strategy].budget_cores
    assert reason


@given(st.floats(0, 64, allow_nan=False))
def test_cpu_bound_is_one_threshold_in_cores(cores: float) -> None:
    assert is_cpu_bound(cores) is (cores >= CPU_BOUND_CORES)
    assert is_cpu_bound(default_demand("cpu"))
    assert not is_cpu_bound(default_demand("io"))
    assert not is_cpu_bound(default_demand(None))
