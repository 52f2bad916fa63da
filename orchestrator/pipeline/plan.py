"""The plan: which stages a run starts, in what order, with which pool and targets.

Pure: it combines the validated configuration, the lane decision, the command-line
overrides and what history says about each stage. `workflow run --dry-run` prints it;
`workflow run` hands it to the pool.
"""

from __future__ import annotations

import graphlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.scheduling.admission import priority
from orchestrator.engine.scheduling.sizing import Machine, StageDemand, size_pool
from orchestrator.history.profiles import StageProfile
from orchestrator.model.config import (
    LANE_DEFAULTS,
    Lane,
    LaneConfig,
    StageConfig,
    Strategy,
    Workers,
)
from orchestrator.model.errors import UnknownStageError
from orchestrator.model.selection import SelectRun
from orchestrator.model.splitplan import SplitPlan
from orchestrator.model.status import ShardOrigin
from orchestrator.model.strategies import default_demand, is_cpu_bound, rules_for
from sla.targets import SlaPolicy, policy_for

LINT_NUMBER = 2  # the seed's numbering: stage 2 lints, and the docs lane runs it


@dataclass(frozen=True)
class PlannedStage:
    """A stage as this run will treat it."""

    name: str
    number: int
    config: StageConfig
    cwd: Path
    target_s: float
    max_rss_bytes: int | None
    critical: bool
    kind: str  # "cpu" or "io"
    kind_source: str  # "declared", "history" or "assumed"
    expected: StageProfile | None
    needs: tuple[str, ...]  # only the needs that are part of this run
    split: SplitPlan | None = None  # run as parts (pipeline/splits.py)
    split_parts: tuple[int, ...] = ()  # the parts this run holds (from 0); empty: all
    select: SelectRun | None = None  # test selection (pipeline/selection.py)

    @property
    def parts_here(self) -> tuple[int, ...]:
        """The split parts this run runs (from 0); () when the stage runs whole."""
        if self.split is None:
            return ()
        return self.split_parts or tuple(range(self.split.parts))

    @property
    def cpu_demand(self) -> float:
        """Cores the stage is expected to keep busy; what adaptive admission budgets (a
        split stage's parts each keep about one core busy)."""
        if self.split is not None:
            return float(len(self.parts_here))
        if self.expected is not None and self.kind_source == "history":
            return max(0.05, self.expected.cpu_percent / 100.0)
        return default_demand(self.kind)

    @property
    def expected_s(self) -> float | None:
        """The stage's expected duration, when history knows it (split: its longest part)."""
        if self.split is not None:
            return max(self.split.predicted_s(i) for i in self.parts_here)
        return None if self.expected is None else self.expected.duration_s


@dataclass(frozen=True)
class PlanOptions:
    """What the command line asked for; None leaves the lane's setting."""

    lane: Lane = Lane.STANDARD
    lane_reasons: tuple[str, ...] = ()
    lane_forced: bool = False
    strategy: Strategy | None = None
    workers: Workers | None = None
    only: tuple[str, ...] = ()
    fail_fast: bool | None = None
    shard: str | None = None  # "K/N": `only` holds that shard's stages (none: an empty shard)
    shard_origin: ShardOrigin | None = None  # the plan and configuration it was cut from
    # The changed paths (relative to the configuration's directory) the lane was decided
    # from; None when they are not known (a forced lane).
    changed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Plan:
    """Everything the pool and the SLA judge need, decided before anything runs."""

    lane: Lane
    lane_reasons: tuple[str, ...]
    lane_forced: bool
    strategy: Strategy
    workers: int
    sizing_reason: str
    fail_fast: bool
    budget_s: float
    stages: tuple[PlannedStage, ...]  # in the order they would start
    usable_cpus: float
    policy: SlaPolicy  # the targets the stages are planned with and judged against
    notes: tuple[str, ...] = field(default=())
    shard: str | None = None  # "K/N" when the run is one shard of the lane
    shard_origin: ShardOrigin | None = None
    # "strategy", "workers": what workflow chose, not the user (`chosen_by_workflow`)
    chosen_by_workflow: tuple[str, ...] = ()

    def stage(self, name: str) -> PlannedStage:
        """The planned stage called `name`."""
        return next(stage for stage in self.stages if stage.name == name)


def build_plan(
    loaded: LoadedConfig,
    options: PlanOptions,
    machine: Machine,
    profiles: Mapping[str, StageProfile] | None = None,
) -> Plan:
    """Decide the run; raises UnknownStageError when `options.only` names no stage."""
    config = loaded.config
    lane = config.lanes.get(options.lane)
    ordered = config.ordered_stages()
    in_lane, lane_notes = lane_stages(ordered, lane, options.lane, options.changed)
    selected, notes = _select(ordered, in_lane, options.only, options.shard)
    notes = [*lane_notes, *notes]
    # The one place targets are resolved: the plan shows them, the run records them and
    # the verdict judges against the very same policy.
    policy = policy_for(config, options.lane, selected)
    known = _Known(loaded, policy, profiles or {}, frozenset(selected))
    planned = [
        _planned(name, stage, known) for name, stage in config.ordered_stages() if name in selected
    ]
    strategy = options.strategy or lane.strategy
    requested = options.workers if options.workers is not None else lane.workers
    demands = [
        StageDemand(s.name, s.kind == "cpu", s.expected.peak_rss_bytes if s.expected else None)
        for s in planned
    ]
    workers, reason = size_pool(strategy, requested, demands, machine)
    assumed = [s.name for s in planned if s.kind_source == "assumed"]
    if assumed and rules_for(strategy).budget_cores:
        reason += (
            f"; no kind or history for {', '.join(assumed)}: treated as CPU-bound until measured"
        )
    return Plan(
        lane=options.lane,
        lane_reasons=options.lane_reasons,
        lane_forced=options.lane_forced,
        strategy=strategy,
        workers=workers,
        sizing_reason=reason,
        fail_fast=lane.fail_fast if options.fail_fast is None else options.fail_fast,
        budget_s=lane.budget,
        stages=tuple(start_order(planned, strategy)),
        usable_cpus=machine.usable_cpus,
        policy=policy,
        notes=tuple(notes),
        shard=options.shard,
        shard_origin=options.shard_origin,
        chosen_by_workflow=chosen_by_workflow(options, lane),
    )


def chosen_by_workflow(options: PlanOptions, lane: LaneConfig) -> tuple[str, ...]:
    """Which of the strategy and the worker count workflow chose rather than the user:
    what the command line did not give and the lane leaves at its default, and workers
    "auto" wherever it comes from. Findings do not argue with these choices."""
    default = LANE_DEFAULTS[options.lane]
    chosen = []
    if options.strategy is None and lane.strategy is default.strategy:
        chosen.append("strategy")
    requested = options.workers if options.workers is not None else lane.workers
    if requested == "auto" or (options.workers is None and lane.workers == default.workers):
        chosen.append("workers")
    return tuple(chosen)


def lane_stages(
    ordered: list[tuple[str, StageConfig]],
    lane: LaneConfig,
    name: Lane,
    changed: tuple[str, ...] | None,
) -> tuple[list[str], list[str]]:
    """The stages a lane runs, and notes saying why (DESIGN "Lanes").

    The lane's `stages` when it lists them; else every stage, except in the docs lane,
    which checks documentation: its lint stages (number 2) and the stages whose explicit
    `inputs` match a changed file (a spell checker, a docs build, a test stage that lists
    the docs its tests read). A stage without `inputs` does not run there, whatever its
    tests read: the note says so, and `inputs` or `[lanes.docs] stages` bring it in.
    """
    names = [stage_name for stage_name, _ in ordered]
    if lane.stages is not None:
        return list(lane.stages), []
    if name is not Lane.DOCS:
        return names, []
    chosen = [stage_name for stage_name, stage in ordered if stage.number == LINT_NUMBER]
    notes = []
    for stage_name, stage in ordered:
        if stage_name in chosen or stage.inputs is None or not changed:
            continue
        hit = _first_input(stage, changed)
        if hit is not None:
            chosen.append(stage_name)
            notes.append(f"{stage_name} runs in the docs lane: its inputs match {hit}")
    left = [n for n in names if n not in chosen]
    if left:
        notes.append(
            f"the docs lane runs the lint stages (number {LINT_NUMBER}) and stages whose "
            f"explicit inputs match a changed file; not {', '.join(left)} (a stage that "
            "reads docs lists them in its inputs, or [lanes.docs] stages chooses)"
        )
    return [n for n in names if n in chosen], notes


def _first_input(stage: StageConfig, changed: tuple[str, ...]) -> str | None:
    """The first changed path (relative to the configuration's directory) that the
    stage's `inputs` (relative to its cwd) match, or None."""
    # The glob matcher loads only for a docs lane with stages that list inputs.
    from orchestrator.model.globs import compile_globs  # noqa: PLC0415 - see above

    globs = compile_globs(stage.inputs or (), "inputs")
    cwd = posixpath.normpath(stage.cwd)
    prefix = "" if cwd == "." else cwd + "/"
    for path in changed:
        if path.startswith(prefix) and globs.match(path[len(prefix) :]) is not None:
            return path
    return None


def _select(
    ordered: list[tuple[str, StageConfig]],
    in_lane: list[str],
    only: tuple[str, ...],
    shard: str | None = None,
) -> tuple[list[str], list[str]]:
    """The stages to run (declared order) and the notes that say why any were added; a
    shard (`shard` set) runs `only`, which may be none.

    A stage's `needs` come with it, transitively, as make's prerequisites do: a need
    outside the lane or outside `--only` is added, with a note ("lint added: unit needs
    it"), never dropped.
    """
    names = [name for name, _ in ordered]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise UnknownStageError(
            f"no stage named {', '.join(repr(n) for n in unknown)} (stages: {', '.join(names)})."
        )
    notes: list[str] = []
    if only or shard is not None:
        chosen = [n for n in names if n in only]
        notes = [
            f"{name} is not part of this lane but runs because --only asked for it"
            for name in only
            if name not in in_lane
        ]
    else:
        chosen = [n for n in names if n in in_lane]
    needs = {name: stage.needs for name, stage in ordered}
    selected = set(chosen)
    pending = list(chosen)
    while pending:
        name = pending.pop(0)
        for need in needs.get(name, ()):
            if need not in selected and need in needs:
                selected.add(need)
                pending.append(need)
                notes.append(f"{need} added: {name} needs it")
    return [n for n in names if n in selected], notes


class _Known(NamedTuple):
    """What planning one stage reads besides the stage: paths, targets, history, selection."""

    loaded: LoadedConfig
    policy: SlaPolicy
    profiles: Mapping[str, StageProfile]
    selected: frozenset[str]


def _planned(name: str, stage: StageConfig, known: _Known) -> PlannedStage:
    profile = known.profiles.get(name)
    if stage.kind is not None:
        kind, source = stage.kind, "declared"
    elif profile is not None:
        kind = "cpu" if is_cpu_bound(profile.cpu_percent / 100) else "io"
        source = "history"
    else:
        # Unknown work is budgeted as CPU-bound: a cold run that starts everything at once
        # measures every stage at a fraction of a core and would learn "I/O" forever.
        kind, source = "cpu", "assumed"
    return PlannedStage(
        name=name,
        number=stage.number,
        config=stage,
        cwd=known.loaded.resolve(stage.cwd),
        target_s=known.policy.targets_s[name],
        max_rss_bytes=known.policy.rss_target_for(name),
        critical=known.policy.is_critical(name),
        kind=kind,
        kind_source=source,
        expected=profile,
        needs=tuple(need for need in stage.needs if need in known.selected),
    )


def start_order(stages: list[PlannedStage], strategy: Strategy) -> list[PlannedStage]:
    """A topological order; among ready stages, by the pool's start priority (declared order
    if sequential), so the plan shows the order the pool will start them in."""
    by_name = {stage.name: stage for stage in stages}
    sorter = graphlib.TopologicalSorter({s.name: s.needs for s in stages})
    sorter.prepare()
    key = (lambda s: (s.number,)) if rules_for(strategy).one_worker else priority
    order: list[PlannedStage] = []
    while sorter.is_active():
        ready = sorted((by_name[name] for name in sorter.get_ready()), key=key)
        for stage in ready:
            order.append(stage)
            sorter.done(stage.name)
    return order
