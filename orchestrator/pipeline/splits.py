"""Which stages of a plan run split, into how many parts, with which test files each.

The decisions are `model/splitplan.py`'s pure functions; this module hands them what the
plan and the history know: each split stage's per-test seconds, its overhead (what each
of its pytest processes spent beyond its tests, as measured; else its expected wall time
beyond its tests' own), the other stages' CPU seconds and the runner's cores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from orchestrator.model.errors import UsageError
from orchestrator.model.splitplan import (
    SplitPlan,
    auto_parts,
    overhead_of,
    part_capacities,
    plan_split,
)
from orchestrator.model.units import count
from orchestrator.pipeline.plan import Plan, PlannedStage, start_order

# Seconds a part is assumed to pay besides its tests when history cannot tell (a split
# stage's wall time says nothing about one process): pytest's start-up and collection.
OVERHEAD_FLOOR_S = 0.5


def split_stages(
    plan: Plan,
    durations: Mapping[str, Mapping[str, float]],
    runners: int = 1,
    overheads: Mapping[str, float] | None = None,
) -> Plan:
    """`plan` with its `split` stages cut into parts (see `with_splits`), in start order.

    `runners`: how many runners like this one share the lane (the shards of a plan), so
    that `split = "auto"` cuts for all their cores, not one runner's.
    """
    if not any(stage.config.split not in (None, 1) for stage in plan.stages):
        return plan
    cores = min(float(plan.workers), plan.usable_cpus) * max(1, runners)
    stages, notes = with_splits(plan.stages, durations, cores, overheads, shape=runners <= 1)
    return replace(
        plan, stages=tuple(start_order(stages, plan.strategy)), notes=(*plan.notes, *notes)
    )


def shard_parts(
    plan: Plan, parts: Mapping[str, Sequence[int]], fixed: Mapping[str, SplitPlan]
) -> Plan:
    """`plan` as one shard runs it: each stage in `parts` runs only those parts (from 0), of
    the split plan `fixed` gives it (a plan file's), else of the one this run made.

    Raises UsageError when a stage has parts but no split plan, or a part it does not have.
    """
    stages = []
    for stage in plan.stages:
        if stage.name not in parts:
            stages.append(stage)
            continue
        split = fixed.get(stage.name, stage.split)
        wanted = tuple(sorted(set(parts[stage.name])))
        if split is None:
            raise UsageError(
                f"--shard: the plan runs parts of {stage.name}, which this run does not split, "
                "and names no split plan for it (a plan file's shard entry carries it in "
                '"splits").'
            )
        beyond = [i + 1 for i in wanted if not 0 <= i < split.parts]
        if beyond:
            raise UsageError(
                f"--shard: the plan runs part {beyond[0]} of {stage.name}, whose split has "
                f"{split.parts} parts."
            )
        stages.append(replace(stage, split=split, split_parts=wanted))
    return replace(plan, stages=tuple(start_order(stages, plan.strategy)))


def with_splits(
    stages: Sequence[PlannedStage],
    durations: Mapping[str, Mapping[str, float]],
    cores: float,
    overheads: Mapping[str, float] | None = None,
    *,
    shape: bool = False,
) -> tuple[list[PlannedStage], list[str]]:
    """`stages` with their split plans, and a note for each stage that is (or is not) split.

    `durations`: stage -> test id -> expected seconds (history's per-test rows);
    `overheads`: stage -> seconds each of its pytest processes is expected to spend
    besides its tests (history's measurement; without one, the stage's expected wall time
    minus its tests' seconds, which a split run's wall time makes too small). `split =
    N` always gives N parts; `"auto"` as many as shorten the run on `cores` cores
    (`auto_parts`), and none while the history knows none of the stage's tests. `shape`
    (one runner, not a shard plan, which places the parts itself): a stage cut into one
    part per core gets parts sized so that the cores end together once the other stages
    have run after them (`part_capacities`).
    """
    whole = max(1, math.floor(cores + 1e-9))
    result: list[PlannedStage] = []
    notes: list[str] = []
    for stage in stages:
        setting = stage.config.split
        if setting is None or setting == 1:
            result.append(stage)
            continue
        tests = durations.get(stage.name, {})
        tests_s = sum(tests.values())
        wall = stage.expected_s
        overhead = OVERHEAD_FLOOR_S
        measured = (overheads or {}).get(stage.name)
        if measured is not None:
            overhead = max(overhead, measured)
        elif wall is not None and tests:
            overhead = max(overhead, overhead_of(wall, list(tests.values())))
        before = _needed_by(stage.name, stages)  # they end before its parts start
        others_s = [_cpu_s(o) for o in stages if o.name != stage.name and o.name not in before]
        if setting == "auto":
            if not tests:
                notes.append(f"{stage.name} runs whole: no test durations in the history yet")
                result.append(stage)
                continue
            parts = auto_parts(tests_s + overhead, overhead, sum(others_s), whole)
            if parts == 1:
                notes.append(f"{stage.name} runs whole: splitting would not shorten the run")
                result.append(stage)
                continue
        else:
            parts = setting
        shaped = shape and bool(tests)
        capacities = part_capacities(parts, tests_s, overhead, others_s, whole) if shaped else None
        plan = plan_split(tests, parts, overhead, capacities)
        known = f"{count(len(tests), 'known test')}" if tests else "no known tests"
        notes.append(f"{stage.name} split into {parts} parts by test file ({known})")
        result.append(replace(stage, split=plan))
    return result, notes


def _needed_by(name: str, stages: Sequence[PlannedStage]) -> set[str]:
    """The stages `name` needs, directly or through others: they run before it."""
    needs = {stage.name: stage.needs for stage in stages}
    found: set[str] = set()
    waiting = list(needs.get(name, ()))
    while waiting:
        need = waiting.pop()
        if need not in found:
            found.add(need)
            waiting += needs.get(need, ())
    return found


def _cpu_s(stage: PlannedStage) -> float:
    """CPU seconds a stage is expected to take (0 when history does not know it)."""
    if stage.expected is None:
        return 0.0
    return stage.expected.duration_s * max(0.05, stage.expected.cpu_percent / 100.0)
