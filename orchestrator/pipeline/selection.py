"""Before a run: which tests each pytest stage with `select` runs (DESIGN "Test selection").

For each such stage: the work tree is read (git's snapshot), the stage's map is loaded
from the history, the current fingerprints of every piece the map names are taken
(`sourceprints`), the facts that can defeat the map are compared with its baseline
(`model/selectrules.py`), and `model/selection.decide` says which known tests can be
skipped and why the others run. The result rides on the planned stage as a `SelectRun`
(what the engine hands to pytest). `--select all` runs every test of every stage, still
learning where a stage selects, so its map stays current.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from orchestrator.cache.snapshot import take_snapshot
from orchestrator.configfile.load import LoadedConfig
from orchestrator.gitio import GitError
from orchestrator.history.depmap import StoredMap, known_sources, load_map, remember_sources
from orchestrator.history.schema import HistoryError
from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.selection import Current, DepMap, SelectMode, SelectRun, decide
from orchestrator.model.selectrules import Now, unmappable
from orchestrator.pipeline.plan import Plan, PlannedStage
from orchestrator.pipeline.selectfacts import facts_now
from orchestrator.pipeline.sourceprints import SourcePrints


def effective_mode(stage: PlannedStage, override: str | None) -> SelectMode | None:
    """The stage's selection in this run (None: a plain stage, nothing to do)."""
    config = stage.config
    if config.run is None or not is_pytest(config.run):
        return None
    wanted = SelectMode(override or config.select)
    if wanted is SelectMode.ALL and config.select == "all":
        return None
    return wanted


class SelectOptions(NamedTuple):
    """Where the map is (None: history is off), the run's reports directory, `--select`,
    and whether fingerprints made now may be remembered (not by a dry run)."""

    history: Path | None
    report_dir: Path
    override: str | None = None
    remember: bool = True


def plan_selection(
    loaded: LoadedConfig,
    plan: Plan,
    options: SelectOptions,
    warn: Callable[[str], None] | None = None,
) -> Plan:
    """`plan` with each selecting stage's decision (`PlannedStage.select`); `warn` hears
    a history that could not be read."""
    stages = []
    excluded = loaded.own_outputs(options.report_dir)
    where = (options.history, excluded, options.remember)
    for stage in plan.stages:
        mode = effective_mode(stage, options.override)
        if mode is None:
            stages.append(stage)
            continue
        chosen = decide_stage(loaded, stage, mode, where, warn).select
        stages.append(replace(stage, select=chosen))
    return replace(plan, stages=tuple(stages))


@dataclass(frozen=True)
class Decided:
    """A stage's selection, and what it was decided from (for `select explain`): its map
    and the current fingerprint of any piece (None when there was no map to read)."""

    select: SelectRun
    depmap: DepMap | None = None
    current: Current | None = None


def decide_stage(
    loaded: LoadedConfig,
    stage: PlannedStage,
    mode: SelectMode,
    where: tuple[Path | None, tuple[Path, ...], bool],
    warn: Callable[[str], None] | None = None,
) -> Decided:
    """One stage's selection: `where` is (the history, workflow's own outputs, whether
    fingerprints made now may be remembered in the history)."""
    history, excluded, remember = where
    try:
        snapshot = take_snapshot(stage.cwd)
    except GitError:
        snapshot = None
    if snapshot is None:
        reason = "everything runs: not in a git work tree, so no change can be mapped"
        return Decided(SelectRun(mode=mode, reason=reason))
    now = facts_now(loaded, stage, snapshot, excluded)
    learn = {"root": str(snapshot.top), "omit": [str(path) for path in excluded]}
    record = {
        "stage": stage.name,
        "now": _now_data(now),
        "cwd": str(stage.cwd),
        "inputs": None if stage.config.inputs is None else list(stage.config.inputs),
        "excluded": [str(path) for path in excluded],
    }
    if history is None:
        reason = (
            'everything runs: no history is used (--no-history, or [workflow] history = ""), '
            "so there is no map"
        )
        return Decided(SelectRun(mode=mode, reason=reason, record=record))
    stored = _stored(history, stage.name, warn)
    if mode is SelectMode.ALL:
        reason = "everything runs: --select all"
        return Decided(SelectRun(mode=mode, reason=reason, learn=learn, record=record))
    depmap = stored.depmap if stored is not None else DepMap({}, {}, {})
    prints = SourcePrints(snapshot)
    keys = [k for p in depmap.paths() if p.endswith(".py") and (k := prints.key(p)) is not None]
    prints.remembered = _remembered(history, keys)
    problem = stored.problem if stored is not None and stored.baseline is None else None
    run_all = f"no usable map: {problem}" if problem else None
    run_all = run_all or unmappable(stored.baseline if stored else None, now, depmap)
    decision = decide(depmap, prints.current, run_all)
    if remember:
        _remember(history, prints.parsed)
    chosen = SelectRun(
        mode=mode,
        reason=decision.reason,
        skip=decision.skip if mode is SelectMode.AFFECTED else frozenset(),
        would_skip=decision.skip if mode is SelectMode.SHADOW else frozenset(),
        learn=learn,
        record=record,
        decision=decision,
    )
    return Decided(chosen, depmap, prints.current)


def _now_data(now: Now) -> dict[str, object]:
    """The facts as JSON-ready data (kept in the run directory for the map's update)."""
    return {
        "inputs": dict(now.inputs),
        "environment": dict(now.environment),
        "config": now.config,
        "pytest_config": now.pytest_config,
    }


def _stored(history: Path, stage: str, warn: Callable[[str], None] | None) -> StoredMap | None:
    try:
        return load_map(history, stage)
    except HistoryError as exc:
        if warn is not None:
            warn(f"{stage}: the test selection map was not read, every test runs: {exc.message}")
        return None


def _remembered(history: Path, keys: list[str]) -> dict[str, str]:
    try:
        return known_sources(history, keys)
    except HistoryError:
        return {}  # parsed again: slower, never wrong


def _remember(history: Path, parsed: dict[str, str]) -> None:
    with contextlib.suppress(HistoryError):  # the next run parses them again
        remember_sources(history, parsed)
