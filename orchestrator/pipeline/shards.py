"""A lane cut into shards for a CI matrix: the plan, and one shard's run options.

The plan is the run's own plan (configuration, lane, history) handed to the pure
planner (`model/shardplan.py`); nothing runs and nothing is written. A shard's run is an
ordinary run of that shard's stages that records which shard it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from orchestrator.model.config import Lane
from orchestrator.model.errors import UsageError
from orchestrator.model.shardplan import Shard, Work, parse_shard, plan_shards, shard_in
from orchestrator.model.writes import reason
from orchestrator.pipeline.prepare import RunOptions, prepare_run


class ShardPlan(NamedTuple):
    """The lane the shards check (None: nothing to check, with `reasons`) and the shards."""

    lane: Lane | None
    shards: tuple[Shard, ...]
    reasons: tuple[str, ...] = ()


def shard_plan(
    options: RunOptions, total: int, warn: Callable[[str], None] | None = None
) -> ShardPlan:
    """Plan `total` shards of the run `options` describe, balanced by its history.

    Raises what `prepare_run` raises (ConfigError, UsageError) and UsageError for a
    non-positive `total`.
    """
    prepared = prepare_run(options._replace(dry_run=True), warn=warn)
    if prepared.plan is None:
        return ShardPlan(None, (), prepared.reasons)
    plan = prepared.plan
    in_lane_order = sorted(plan.stages, key=lambda s: (s.number, s.name))
    works = [Work(s.name, s.expected_s, s.needs) for s in in_lane_order]
    # A runner like this one runs a shard's stages side by side on its workers and cores.
    parallel = min(float(plan.workers), plan.usable_cpus)
    shards = plan_shards(works, total, parallel)
    return ShardPlan(plan.lane, tuple(shards), plan.lane_reasons)


def shard_options(
    options: RunOptions, label: str, plan_file: Path | None = None
) -> tuple[RunOptions, tuple[str, ...]]:
    """The options of shard `label` ("K/N") of `options`' run, and the shard's stages.

    With `plan_file` (the JSON `workflow shard plan --json` printed) the lane and stages
    come from it; otherwise the plan is made again here, which gives the same shards for
    the same configuration, lane and history. Raises UsageError naming `--shard`,
    `--plan` or the file at fault; an empty stage tuple means the shard has nothing to run.
    """
    index, total = parse_shard(label)
    label = f"{index}/{total}"
    if options.only:
        raise UsageError("--shard: cannot be combined with --only (the shard picks its stages).")
    if plan_file is not None:
        lane_name, stages = shard_in(_read_json(plan_file), label, str(plan_file))
        try:
            lane = Lane(lane_name)
        except ValueError:
            raise UsageError(f"{plan_file}: unknown lane {lane_name!r}.") from None
    else:
        planned = shard_plan(options, total)
        if planned.lane is None:
            return options, ()
        lane, stages = planned.lane, planned.shards[index - 1].stages
    return options._replace(lane=lane, only=stages, shard=label), stages


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--plan: cannot read {path}: {reason(exc)}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--plan: {path} is not JSON: {exc}.") from exc
