"""A lane cut into shards for a CI matrix: the plan, and one shard's run options.

The plan is the run's own plan (configuration, lane, history) handed to the pure
planner (`model/shardplan.py`); nothing runs and nothing is written. A shard's run is an
ordinary run of that shard's stages that records which shard it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from orchestrator.configfile.load import load_config
from orchestrator.model.config import Lane
from orchestrator.model.errors import ReportsDirError, UsageError
from orchestrator.model.filenames import RunDir
from orchestrator.model.masking import Masker
from orchestrator.model.partlabel import PartLabel
from orchestrator.model.records import RunRecord, write_record
from orchestrator.model.run_order import started_text
from orchestrator.model.shardplan import (
    NOTHING_LANE,
    Shard,
    Work,
    matrix,
    nothing_matrix,
    parse_shard,
    plan_origin,
    plan_shards,
    shard_in,
)
from orchestrator.model.splitplan import SplitPlan, parse_entry, part_entry
from orchestrator.model.writes import reason
from orchestrator.pipeline.plan import PlannedStage
from orchestrator.pipeline.prepare import RunOptions, prepare_run
from orchestrator.pipeline.request import RunStart
from orchestrator.pipeline.run import new_run_id


class ShardPlan(NamedTuple):
    """The lane the shards check (None: nothing to check, with `reasons`), the shards, and
    the split plans of stages whose parts are placed one by one (stage -> JSON data)."""

    lane: Lane | None
    shards: tuple[Shard, ...]
    reasons: tuple[str, ...] = ()
    splits: dict[str, Any] = {}  # noqa: RUF012 - a NamedTuple default, never mutated


def shard_works(stages: Sequence[PlannedStage]) -> list[Work]:
    """The units the planner places: whole stages, and each part of a split stage (tied
    by `needs` like its stage: a split stage that needs, or is needed by, another stays
    with it, its parts on one shard)."""
    names: dict[str, tuple[str, ...]] = {}
    for stage in stages:
        if stage.split is None:
            names[stage.name] = (stage.name,)
        else:
            total = stage.split.parts
            names[stage.name] = tuple(part_entry(stage.name, i, total) for i in range(total))
    works: list[Work] = []
    for stage in stages:
        needs = tuple(entry for need in stage.needs for entry in names.get(need, (need,)))
        if stage.split is None:
            works.append(Work(stage.name, stage.expected_s, needs))
            continue
        entries = names[stage.name]
        for index, entry in enumerate(entries):
            # A part with needs is tied to them; the parts of one stage are not tied to
            # each other unless through those needs.
            works.append(Work(entry, stage.split.predicted_s(index), needs))
    return works


def shard_plan(
    options: RunOptions, total: int, warn: Callable[[str], None] | None = None
) -> ShardPlan:
    """Plan `total` shards of the run `options` describe, balanced by its history.

    Raises what `prepare_run` raises (ConfigError, UsageError) and UsageError for a
    non-positive `total`.
    """
    # "auto" splits cut for the cores of all `total` runners: one runner's parts would be
    # too few to spread over the shards.
    prepared = prepare_run(options._replace(dry_run=True, split_runners=total), warn=warn)
    if prepared.plan is None:
        return ShardPlan(None, (), prepared.reasons)
    plan = prepared.plan
    in_lane_order = sorted(plan.stages, key=lambda s: (s.number, s.name))
    works = shard_works(in_lane_order)
    # A runner like this one runs a shard's stages side by side on its workers and cores.
    parallel = min(float(plan.workers), plan.usable_cpus)
    shards = plan_shards(works, total, parallel)
    splits = {s.name: s.split.to_data() for s in plan.stages if s.split is not None}
    return ShardPlan(plan.lane, tuple(shards), plan.lane_reasons, splits)


def plan_data(planned: ShardPlan, total: int) -> dict[str, Any]:
    """The plan as `workflow shard plan --json` prints it and `--plan FILE` reads it."""
    if planned.lane is None:
        return nothing_matrix(total)
    return matrix(planned.shards, planned.lane.value, planned.splits)


def shard_options(
    options: RunOptions, label: str, plan_file: Path | None = None
) -> tuple[RunOptions, tuple[str, ...]]:
    """The options of shard `label` ("K/N") of `options`' run, and the shard's entries.

    With `plan_file` (the JSON `workflow shard plan --json` printed) the lane, the stages
    and the split plans of the stages it runs parts of come from it; otherwise the plan is
    made again here, which gives the same shards for the same configuration, lane and
    history. Either way the options carry the plan's identity (`shard_origin`), which the
    record keeps for `workflow merge`. Raises UsageError naming `--shard`, `--plan` or
    the file at fault. An empty tuple: the shard has nothing to run (its run records no
    stage); `lane` None with it: the plan had nothing to check at all.
    """
    index, total = parse_shard(label)
    label = str(PartLabel(index, total))
    if options.only:
        raise UsageError("--shard: cannot be combined with --only (the shard picks its stages).")
    if plan_file is not None:
        data: Any = _read_json(plan_file)
        source = str(plan_file)
    else:
        data, source = plan_data(shard_plan(options, total), total), "the shard plan"
    entry = shard_in(data, label, source)
    origin = plan_origin(data)
    if entry.lane == NOTHING_LANE:
        return options._replace(lane=None, shard=label, shard_origin=origin), ()
    try:
        lane = Lane(entry.lane)
    except ValueError:
        raise UsageError(f"{source}: unknown lane {entry.lane!r}.") from None
    splits = _split_plans(entry.splits, source)
    names: list[str] = []
    parts: dict[str, list[int]] = {}
    for entry_name in entry.stages:
        name, part, _ = parse_entry(entry_name)
        if name not in names:
            names.append(name)
        if part is not None:
            parts.setdefault(name, []).append(part)
    chosen = tuple((name, tuple(found)) for name, found in parts.items())
    fixed = tuple((name, plan) for name, plan in splits.items() if name in parts)
    changed = options._replace(
        lane=lane,
        only=tuple(names),
        shard=label,
        split_parts=chosen,
        split_plans=fixed,
        shard_origin=origin,
    )
    return changed, entry.stages


def _split_plans(data: Mapping[str, Any], source: str) -> dict[str, SplitPlan]:
    plans: dict[str, SplitPlan] = {}
    for name, plan in data.items():
        try:
            plans[str(name)] = SplitPlan.from_data(plan)
        except ValueError as exc:
            raise UsageError(f"{source}: splits.{name}: {exc}.") from None
    return plans


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--plan: cannot read {path}: {reason(exc)}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--plan: {path} is not JSON: {exc}.") from exc


def nothing_to_check(options: RunOptions) -> RunStart:
    """Write the record of a shard of a plan that had nothing to check (no stages, passed,
    lane "none") into the reports directory; its start (the run directory). It merges cleanly with
    its siblings. Raises ReportsDirError when the directory cannot be made."""
    loaded = load_config(options.config_path, cwd=options.cwd)
    origin = options.shard_origin
    now = datetime.now(UTC)
    record = RunRecord(
        run_id=new_run_id(now),
        started_at=started_text(now),
        lane=NOTHING_LANE,
        lane_reasons=("the shard plan had nothing to check",),
        shard=options.shard,
        shard_plan=None if origin is None else replace(origin, config=loaded.digest),
        strategy="sequential",
        workers=0,
        exit_code=0,
        finished=True,
    )
    reports = options.report_dir or loaded.output_path(loaded.config.workflow.reports)
    run_dir = reports / record.run_id
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise ReportsDirError(f"cannot create {run_dir}: {reason(exc)}.") from exc
    write_record(record, RunDir(run_dir).record)
    return RunStart(record.run_id, record.started_at, run_dir, Masker(()))
