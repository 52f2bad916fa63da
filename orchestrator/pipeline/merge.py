"""`workflow merge`: one run made of the records of a lane's shards.

The shards ran on separate runners, each from its own start, as a CI matrix runs them
side by side; the merged timeline puts every shard's stages at their offsets from that
shard's start, each on its shard's rows ("2/3 process-1"). The merged run's wall time is
the longest shard's, and that is what the lane budget judges. The exit code is the
worst of the shards' (an interruption over a broken runner over a failure over an SLA
breach over a pass);
a shard named by the plan but missing here counts as failed.

Merge trusts nothing it is given (DESIGN.md, "Nothing incomplete passes"): records of
different lanes, plans, configurations or commits, or one shard given twice, are
refused (exit 2, one line naming the shard); a stage the plan put on a shard that no
given record ran is in the merged record as an `error`, naming that shard.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.scheduling.metrics import pool_metrics
from orchestrator.model.config import Lane
from orchestrator.model.errors import ExitCode, ReportsDirError
from orchestrator.model.errors import worst_exit_code as worst_of
from orchestrator.model.filenames import RunDir
from orchestrator.model.masking import Masker
from orchestrator.model.partlabel import PartLabel
from orchestrator.model.records import (
    RunRecord,
    ShardRun,
    StageRecord,
    wall_time_s,
)
from orchestrator.model.reportformats import FORMATS
from orchestrator.model.shardplan import parse_shard
from orchestrator.model.writes import WriteWarnings, reason
from orchestrator.pipeline.finish import Finish, finish_run
from orchestrator.pipeline.mergecheck import read_shards, unplanned
from orchestrator.pipeline.mergeparts import fold_stage, join_part_logs
from orchestrator.pipeline.run import new_run_id
from sla.targets import policy_for


def worst_exit_code(codes: Sequence[int | None]) -> int:
    """The worst of the shards' exit codes (`model/errors.worst_exit_code`); None
    (unfinished or missing) counts as 1."""
    known = [int(ExitCode.STAGE_FAILED) if code is None else code for code in codes]
    return worst_of(known)


def merged_record(
    shards: Sequence[RunRecord], run_id: str, numbers: Mapping[str, int] | None = None
) -> RunRecord:
    """One unjudged record of `shards` (all of one lane, plan and N, as `read_shards`
    gives); `numbers` numbers the stages that ran on no shard (from the configuration)."""
    first = shards[0]
    total = parse_shard(first.shard or "1/1")[1]
    by_label = {record.shard: record for record in shards}
    runs = []
    for index in range(1, total + 1):
        label = str(PartLabel(index, total))
        record = by_label.get(label)
        runs.append(
            ShardRun(shard=label)
            if record is None
            else ShardRun(
                shard=label,
                run_id=record.run_id,
                exit_code=record.exit_code,
                duration_s=round(wall_time_s(record), 4),
                stages=tuple(stage.name for stage in record.stages),
            )
        )
    by_name: dict[str, list[tuple[str, StageRecord]]] = {}
    for record in shards:
        for stage in record.stages:
            by_name.setdefault(stage.name, []).append((record.shard or "", stage))
    stages = sorted(
        [
            *(
                fold_stage(found)
                if found[0][1].parts
                else replace(found[0][1], worker=f"{found[0][0]} {found[0][1].worker or 'main'}")
                for found in by_name.values()
            ),
            *unplanned(shards, numbers or {}),
        ],
        key=lambda stage: (stage.number, stage.name),
    )
    wall = max(wall_time_s(record) for record in shards)
    resources: dict[str, int] = {}
    for record in shards:
        resources.update(record.pool.resources)
    pool = pool_metrics(
        stages,
        workers=sum(record.workers for record in shards),
        started_at=0.0,
        finished_at=wall,
        sizing_reason=f"{total} shards, one runner each; wall time is the longest shard's",
        usable_cpus=sum(record.pool.usable_cpus for record in shards),
        monitor_cpu_seconds=sum(record.pool.monitor_cpu_seconds for record in shards),
    )
    return RunRecord(
        run_id=run_id,
        started_at=min(record.started_at for record in shards),
        lane=first.lane,
        lane_reasons=first.lane_reasons,
        lane_forced=first.lane_forced,
        strategy=first.strategy,
        workers=sum(record.workers for record in shards),
        git=first.git,
        host=first.host,
        stages=tuple(stages),
        pool=replace(pool, resources=resources),
        exit_code=worst_exit_code(
            [run.exit_code for run in runs] + [None for s in stages if not s.status.ok]
        ),
        finished=all(record.finished for record in shards) and len(shards) == total,
        shards=tuple(runs),
    )


class Merged(NamedTuple):
    """The judged merged record, where it was written, and warnings of unwritten files."""

    record: RunRecord
    run_dir: Path
    warnings: tuple[str, ...]


def merge_shards(
    paths: Sequence[Path],
    loaded: LoadedConfig,
    report_dir: Path | None = None,
    formats: Sequence[str] = FORMATS,
) -> Merged:
    """Read, merge, judge (the configuration's SLA policy), write reports, record history.

    `report_dir` defaults to the configuration's reports directory. Raises RecordError or
    UsageError (nothing written) for unusable records, ReportsDirError when the reports
    directory cannot be made.
    """
    shards = read_shards(paths)
    numbers = {name: stage.number for name, stage in loaded.config.stages.items()}
    record = merged_record(shards, new_run_id(datetime.now(UTC)), numbers)
    policy = None
    if record.lane in {lane.value for lane in Lane}:  # "none": nothing was to be checked
        policy = policy_for(loaded.config, Lane(record.lane), [s.name for s in record.stages])
    run_dir = (report_dir or loaded.output_path(loaded.config.workflow.reports)) / record.run_id
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise ReportsDirError(f"cannot create {run_dir}: {reason(exc)}.") from exc
    warnings = WriteWarnings()
    _copy_files(paths, run_dir, warnings)
    for stage in record.stages:
        if stage.parts and stage.log is not None:
            with warnings.guard("log", run_dir / stage.log):
                join_part_logs(run_dir, stage)
    # The replay treats the shards as one pool of all their workers and cores: close to
    # runners side by side, since the planner kept stages tied by needs on one shard.
    finish = Finish(
        policy=policy,
        run_dir=run_dir,
        formats=tuple(formats),
        history=loaded.history_file if record.stages else None,  # nothing ran: nothing to learn
        masker=Masker(()),  # the shards' files were masked by their runs
        warnings=warnings,
        available_memory_bytes=record.host.available_memory_bytes or None,
    )
    record = finish_run(record, finish).record
    return Merged(record, run_dir, warnings.lines)


def _copy_files(paths: Sequence[Path], run_dir: Path, warnings: WriteWarnings) -> None:
    # The reports show each stage's log tail from the run's logs/ directory, and the
    # per-test rows come from its tests/ directory: the shards' files (already masked by
    # their runs) come along; stage names are unique across shards, so are their files.
    for given in paths:
        shard_dir = given if given.is_dir() else given.parent
        for sub in (RunDir.LOGS, RunDir.TESTS):
            source = shard_dir / sub
            if not source.is_dir():
                continue
            for item in sorted(p for p in source.iterdir() if p.is_file()):
                target = run_dir / sub / item.name
                with warnings.guard(sub, target):
                    target.parent.mkdir(exist_ok=True)
                    shutil.copy2(item, target)
