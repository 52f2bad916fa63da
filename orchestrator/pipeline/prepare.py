"""Before any stage: the configuration, the lane, the machine, what history knows, the plan.

`prepare_run` turns typed options into a `Prepared` run: nothing is started and nothing
is written, so a dry run stops here. Reading the change (git, the pre-push lines) and
the history database happen only when the options need them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.configfile.load import LoadedConfig, load_config
from orchestrator.engine.scheduling.host import host_record
from orchestrator.engine.scheduling.sizing import read_machine
from orchestrator.history.profiles import StageProfile, profiles_from_reports
from orchestrator.model.config import Lane, Strategy, Workers
from orchestrator.model.reportformats import FORMATS
from orchestrator.model.splitplan import SplitPlan
from orchestrator.model.status import WORKTREE, CheckedCommit, GitRecord, ShardOrigin
from orchestrator.pipeline.decide import decide
from orchestrator.pipeline.plan import Plan, PlanOptions, build_plan
from orchestrator.pipeline.request import RunRequest
from orchestrator.pipeline.splits import OVERHEAD_FLOOR_S, shard_parts, split_stages

if TYPE_CHECKING:
    from lanes.changes import LaneDecision

ALL_FORMATS = FORMATS


class RunOptions(NamedTuple):
    """What a caller asks of one run, by keyword; every field has the command line's default.

    `lane=None` decides the lane from the change (`base`, `head`, the listed
    `changed_files` or the pre-push hook's `push_lines`, else git and the CI's
    environment). `formats` are report formats among `ALL_FORMATS`. `dry_run` plans and
    stops. `history=False` neither reads nor records the history database. `cache=False`
    runs every stage (`--no-cache`) and still stores their passes. (A NamedTuple, not a
    dataclass: it is defined on the way to the first stage, and costs less.)
    """

    lane: Lane | None = None
    strategy: Strategy | None = None
    workers: Workers | None = None
    only: tuple[str, ...] = ()
    base: str | None = None
    head: str | None = None
    changed_files: Sequence[str] | None = None
    push_lines: Sequence[str] | None = None
    config_path: Path | None = None
    cwd: Path | None = None  # where to look for the configuration (default: the current one)
    report_dir: Path | None = None  # default: the configuration's [workflow] reports
    formats: tuple[str, ...] = ALL_FORMATS
    fail_fast: bool | None = None
    history: bool = True
    dry_run: bool = False
    cache: bool = True  # False: look nothing up in the result cache (passes still stored)
    # The share of would-be cache hits run anyway and compared (0-1); None: the
    # configuration's `cache_verify`, or 0 under the pre-push hook. The seed fixes which.
    cache_verify: float | None = None
    cache_verify_seed: int | None = None
    shard: str | None = None  # "K/N" when this run is one shard of a lane (with `only`)
    shard_plan_file: Path | None = None  # `--plan`: the shard plan that fixes `shard`'s stages
    # A shard's parts of split stages: stage -> the parts it runs (from 0), and the split
    # plans its plan file fixed (stage -> plan); see pipeline/shards.py.
    split_parts: tuple[tuple[str, tuple[int, ...]], ...] = ()
    split_plans: tuple[tuple[str, SplitPlan], ...] = ()
    split_runners: int = 1  # runners sharing the lane: `split = "auto"` cuts for their cores
    shard_origin: ShardOrigin | None = None  # the plan a shard was cut from (its config: ours)
    # The pre-push check (pipeline/pushcheck.py) decides the lane once for every pushed
    # commit, runs each commit's stages with it, reports into the project's own
    # directory (`outputs`) from a temporary worktree, and names the commit it checked.
    lane_decision: LaneDecision | None = None
    outputs: Path | None = None
    checked: CheckedCommit | None = None
    select: str | None = None  # `--select all|affected|shadow`: every pytest stage's `select`


class Prepared(NamedTuple):
    """A planned run, or the reasons there is nothing to check (`plan` is None)."""

    loaded: LoadedConfig
    reasons: tuple[str, ...]
    plan: Plan | None
    request: RunRequest | None
    history: Path | None  # the database to record into, None when off
    formats: tuple[str, ...] = ALL_FORMATS  # the reports to write


def prepare_run(
    options: RunOptions,
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Prepared:
    """Load the configuration, decide the lane and build the plan; start nothing.

    `warn` hears problems worth a line that do not stop the run (a locked history).
    Raises ConfigError for an unusable configuration, UnknownStageError when `only`
    names no stage, UsageError for unusable change inputs (pre-push lines, refs).
    """
    loaded = load_config(
        options.config_path, cwd=options.cwd, files=project_files, outputs=options.outputs
    )
    decision = options.lane_decision
    lane = options.lane if decision is None else decision.lane
    if decision is not None and lane is None:
        return Prepared(loaded, decision.reasons, None, None, None)
    if lane is None:
        decision = decide(
            loaded,
            base=options.base,
            head=options.head,
            changed_files=options.changed_files,
            push_lines=options.push_lines,
            report_dir=options.report_dir,
            env=env,
        )
        if decision.lane is None:
            return Prepared(loaded, decision.reasons, None, None, None)
        lane = decision.lane
    plan_options = PlanOptions(
        lane=lane,
        lane_reasons=decision.reasons if decision is not None else ("forced by --lane",),
        lane_forced=decision is None,
        strategy=options.strategy,
        workers=options.workers,
        only=options.only,
        fail_fast=options.fail_fast,
        shard=options.shard,
        shard_origin=None
        if options.shard_origin is None
        else replace(options.shard_origin, config=loaded.digest),
        changed=decision.changed if decision is not None else None,
    )
    machine = read_machine()
    reports = options.report_dir or loaded.output_path(loaded.config.workflow.reports)
    host = host_record(machine)
    history = loaded.history_file if options.history else None
    profiles: dict[str, StageProfile] = {}
    if history is not None:
        # The store (sqlite3 and the record types) loads only when a database is in use.
        from orchestrator.history.store import profiles_safely  # noqa: PLC0415 - see above

        profiles = profiles_safely(history, lane.value, host.runner_class, warn)
    plan = build_plan(
        loaded, plan_options, machine, profiles or profiles_from_reports(reports, lane.value)
    )
    if options.select is not None or any(s.config.select != "all" for s in plan.stages):
        plan = _with_selection(loaded, plan, options, reports, warn)
    selecting = [s.name for s in plan.stages if s.select is not None and s.select.skip]
    durations, overheads = _test_durations(loaded, history, lane, (warn, selecting))
    durations = selected_durations(plan, durations)
    plan = split_stages(plan, durations, options.split_runners, overheads)
    plan = expected_with_selection(plan, durations, overheads)
    if options.split_parts:
        plan = shard_parts(plan, dict(options.split_parts), dict(options.split_plans))
    base = decision.base if decision else options.base
    head = options.head
    checked = options.checked
    request = RunRequest(
        loaded=loaded,
        plan=plan,
        report_dir=reports,
        git=lambda: checked_identity(git_identity(loaded, head, base), checked),
        host=host,
        cache_lookup=options.cache,
        cache_verify=verify_rate(options, loaded),
        cache_verify_seed=options.cache_verify_seed,
    )
    # A shard reads the history (its plan depends on it) but leaves it as it was: its
    # shards are planned from the same history, and `workflow merge` records the whole run
    # once.
    record_into = history if options.shard is None else None
    return Prepared(loaded, plan.lane_reasons, plan, request, record_into, options.formats)


def verify_rate(options: RunOptions, loaded: LoadedConfig) -> float:
    """The share of would-be cache hits this run verifies: the option when given, else 0
    for the pre-push hook (a push waits for it: CI verifies), else `[workflow]
    cache_verify` (DESIGN "Result cache")."""
    if options.cache_verify is not None:
        return options.cache_verify
    if options.push_lines is not None or options.checked is not None:
        return 0.0  # the hook: its lines, or one pushed commit it checks (pushcheck.py)
    return loaded.config.workflow.cache_verify


def selected_durations(
    plan: Plan, durations: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Per-test seconds of the tests each stage will run: a split plan balances the
    parts on what selection leaves of a stage, not on the tests it skips."""
    skipped = {s.name: s.select.skip for s in plan.stages if s.select is not None}
    return {
        name: {t: d for t, d in tests.items() if t not in skipped.get(name, ())}
        for name, tests in durations.items()
    }


def expected_with_selection(
    plan: Plan, durations: Mapping[str, Mapping[str, float]], overheads: Mapping[str, float]
) -> Plan:
    """A selecting stage that runs whole is expected to take what its selected tests
    take (their history) plus its process's overhead, not its last full run: the start
    order and shard plans weigh what it will do."""
    stages = []
    for stage in plan.stages:
        tests = durations.get(stage.name)
        skipping = stage.select is not None and stage.select.skip
        if not skipping or stage.split is not None or stage.expected is None or not tests:
            stages.append(stage)
            continue
        overhead = overheads.get(stage.name, OVERHEAD_FLOOR_S)
        seconds = min(stage.expected.duration_s, overhead + sum(tests.values()))
        stages.append(replace(stage, expected=replace(stage.expected, duration_s=seconds)))
    return replace(plan, stages=tuple(stages))


def _with_selection(
    loaded: LoadedConfig,
    plan: Plan,
    options: RunOptions,
    reports: Path,
    warn: Callable[[str], None] | None,
) -> Plan:
    """The plan with the test selection of its stages that select."""
    # Test selection (git, the history's map, the fingerprints) loads only for a
    # configuration with a selecting stage or `--select`.
    from orchestrator.pipeline.selection import (  # noqa: PLC0415 - see the comment above
        SelectOptions,
        plan_selection,
    )

    history = loaded.history_file if options.history else None
    where = SelectOptions(history, reports, options.select, remember=not options.dry_run)
    return plan_selection(loaded, plan, where, warn)


class SplitHistory(NamedTuple):
    """What the history knows of the split stages: stage -> test id -> expected seconds,
    and stage -> seconds each pytest process spends besides its tests."""

    durations: dict[str, dict[str, float]]
    overheads: dict[str, float]


def _test_durations(
    loaded: LoadedConfig,
    history: Path | None,
    lane: Lane,
    hearing: tuple[Callable[[str], None] | None, list[str]],
) -> SplitHistory:
    """Per-test seconds and process overheads of the stages with `split`, and of the
    stages whose tests this run selects (`hearing`: who hears a history that cannot be
    read, and those stages), from the history (read only for them)."""
    warn, selecting = hearing
    split = [name for name, stage in loaded.config.stages.items() if stage.split not in (None, 1)]
    split += [name for name in selecting if name not in split]
    if history is None or not split:
        return SplitHistory({}, {})
    from orchestrator.history.schema import HistoryError  # noqa: PLC0415 - split stages only
    from orchestrator.history.tests import (  # noqa: PLC0415
        expected_overhead,
        expected_test_durations,
    )

    try:
        durations = {name: expected_test_durations(history, lane.value, name) for name in split}
        overheads = {name: expected_overhead(history, lane.value, name) for name in split}
    except HistoryError as exc:
        if warn is not None:
            warn(f"test durations not read, the split plans know no tests: {exc.message}")
        return SplitHistory({}, {})
    known = {name: seconds for name, seconds in overheads.items() if seconds is not None}
    return SplitHistory(durations, known)


def git_identity(loaded: LoadedConfig, head: str | None, base: str | None) -> GitRecord:
    """The commit the run checks; asked of git while the first stages already run."""
    from lanes.git import git_record  # noqa: PLC0415 - in the helper thread (`decide_lane`)

    return git_record(loaded.root, head, base)


def checked_identity(found: GitRecord, checked: CheckedCommit | None) -> GitRecord:
    """The run's commit as git says it, named as the push named it, and where it was
    checked (a temporary worktree is a fresh checkout: clean)."""
    if checked is None:
        return found
    clean = True if checked.tree == WORKTREE else found.clean
    name = found.branch if checked.name in (None, "HEAD") else checked.name
    return replace(found, sha=checked.sha, branch=name, clean=clean, tree=checked.tree)


def project_files(root: Path) -> list[str] | None:
    """What git tracks or would track under `root`: the built-in stages' sources (asked
    only when there is no configuration)."""
    from lanes.git import project_files as tracked  # noqa: PLC0415 - without a configuration

    return tracked(root)
