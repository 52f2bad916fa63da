"""What each strategy means, as one table; and when a stage counts as CPU-bound.

The pool, the stage runner, the pool's sizing, the plan's start order and the what-if
replay all ask this table instead of comparing strategies themselves, as pytest-xdist
picks its scheduler for `--dist` in one place: a new strategy, or a change in what one
means, is one row here. Data, not classes (STYLE habit 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from orchestrator.model.config import Strategy

# A stage that keeps at least half a core busy (measured over its run) is CPU-bound: it
# spends the adaptive core budget, is niced off the critical path and gets a process
# under `hybrid`/`adaptive`; below that it mostly waits and overlaps freely.
CPU_BOUND_CORES = 0.5


def is_cpu_bound(cores: float) -> bool:
    """Whether a stage keeping `cores` cores busy on average (CPU seconds per wall second;
    a history profile's `cpu_percent` / 100) counts as CPU-bound."""
    return cores >= CPU_BOUND_CORES


def default_demand(kind: str | None) -> float:
    """Cores to budget for a stage of `kind` ("cpu", "io"; None counts as "io") whose
    demand was never measured: a whole core for CPU-bound work, a tenth for work that
    mostly waits."""
    return 1.0 if kind == "cpu" else 0.1


Executor = Literal["inline", "thread", "process", "by kind"]


@dataclass(frozen=True)
class StrategyRules:
    """What one strategy decides.

    `one_worker`: one stage at a time, in declared order, on the scheduler's own thread.
    `budget_cores`: CPU-bound stages are admitted against the machine's cores and those
    off the critical path are niced (engine/admission.py).
    `commands`: where a command stage runs; "by kind" is a process for a CPU-bound
    (`kind = "cpu"`) stage and a thread for the rest.
    `named_calls_in_process`: a "pkg.module:function" callable always gets its own
    process (otherwise only when its env, cwd or timeout needs one).
    """

    one_worker: bool
    budget_cores: bool
    commands: Executor
    named_calls_in_process: bool


RULES: MappingProxyType[Strategy, StrategyRules] = MappingProxyType(
    {
        Strategy.SEQUENTIAL: StrategyRules(True, False, "inline", False),
        Strategy.THREAD: StrategyRules(False, False, "thread", False),
        Strategy.PROCESS: StrategyRules(False, False, "process", True),
        Strategy.HYBRID: StrategyRules(False, False, "by kind", False),
        Strategy.ADAPTIVE: StrategyRules(False, True, "by kind", True),
    }
)

# A record's strategy that is none of ours (hand-made, or from a later version): several
# workers, no core budget, as any strategy that is neither sequential nor adaptive.
_UNKNOWN = StrategyRules(False, False, "by kind", False)


def rules_for(strategy: Strategy | str) -> StrategyRules:
    """The rules of `strategy` (a `Strategy`, or a record's text of one)."""
    try:
        return RULES[Strategy(strategy)]
    except ValueError:
        return _UNKNOWN
