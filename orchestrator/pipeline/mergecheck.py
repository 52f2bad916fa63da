"""Whether shard records belong together, and what the plan wanted that none ran.

`workflow merge` trusts nothing it is given (DESIGN.md, "Nothing incomplete passes"):
every record must be a shard's, of one lane and one N, cut from one plan (the digest its
run kept, `ShardOrigin`), with one configuration, on one commit, each shard given once
and each stage (or split part) run on one shard. Anything else is refused with one line
naming the shard (exit 2). A stage the plan put on a shard that no given record ran
becomes an `error` stage of the merged run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.model.errors import UsageError
from orchestrator.model.filenames import RunDir
from orchestrator.model.records import RunRecord, StageRecord, read_record
from orchestrator.model.shardplan import parse_shard
from orchestrator.model.splitplan import parse_entry
from orchestrator.model.status import StageStatus


def read_shards(paths: Sequence[Path]) -> list[RunRecord]:
    """The shard records at `paths` (a run directory or its run.json), in shard order.

    Raises RecordError for an unreadable record and UsageError naming the path for a
    record that is no shard, or shards that do not belong together.
    """
    found: dict[int, tuple[Path, RunRecord]] = {}
    for given in paths:
        path = RunDir(given).record if given.is_dir() else given
        record = read_record(path)
        index = _belonging(path, record, found)
        found[index] = (path, record)
    _each_stage_once(found)
    return [found[index][1] for index in sorted(found)]


def _belonging(path: Path, record: RunRecord, found: Mapping[int, tuple[Path, RunRecord]]) -> int:
    """The shard index of `record`, once it is known to belong with those `found`."""
    if record.shard is None:
        raise UsageError(f"{path}: not a shard's record (made without run --shard K/N).")
    index, total = parse_shard(record.shard)
    if record.shard_plan is None:
        raise UsageError(
            f"{path}: shard {record.shard} does not say which plan it was cut from "
            "(made by an older workflow); run the shards again."
        )
    if found:
        first_path, first = next(iter(found.values()))
        mismatch = _mismatch(record, first)
        if record.lane != first.lane or parse_shard(first.shard or "")[1] != total:
            mismatch = f"of the {record.lane} lane, not {first.lane} with {first.shard}"
        if mismatch is not None:
            raise UsageError(
                f"{path}: shard {record.shard} does not belong with {first_path} "
                f"(shard {first.shard}): {mismatch}."
            )
    if index in found:
        raise UsageError(f"{path}: shard {record.shard} is already given by {found[index][0]}.")
    return index


def _each_stage_once(found: Mapping[int, tuple[Path, RunRecord]]) -> None:
    """A stage runs on one shard; a split stage's parts each on one."""
    seen: dict[str, str] = {}
    parts_seen: dict[tuple[str, str], str] = {}
    for index in sorted(found):
        path, record = found[index]
        for stage in record.stages:
            # A split stage's parts may run on several shards; each part on one only.
            if stage.parts and all(parts_seen.get(k) is None for k in seen_parts(stage)):
                parts_seen.update(dict.fromkeys(seen_parts(stage), record.shard or ""))
                seen.setdefault(stage.name, record.shard or "")
                continue
            if stage.name in seen:
                raise UsageError(
                    f"{path}: stage {stage.name} also ran in shard {seen[stage.name]}."
                )
            seen[stage.name] = record.shard or ""


def _mismatch(record: RunRecord, first: RunRecord) -> str | None:
    """Why two shard records cannot be one run: another plan, configuration or commit."""
    mine, theirs = record.shard_plan, first.shard_plan
    if mine is None or theirs is None or mine.plan != theirs.plan:
        return "it was cut from another shard plan (give every shard the same --plan file)"
    if mine.config != theirs.config:
        return "it read another configuration"
    if record.git.sha != first.git.sha:
        return f"it checked commit {record.git.sha or 'unknown'}, not {first.git.sha or 'unknown'}"
    return None


def unplanned(shards: Sequence[RunRecord], numbers: Mapping[str, int]) -> list[StageRecord]:
    """An `error` stage for each stage the plan put on a shard that no given record ran
    (a missing shard, a shard that ended before it); `numbers`: the configured stages'."""
    origin = shards[0].shard_plan
    if origin is None:
        return []
    ran = {stage.name for record in shards for stage in record.stages}
    given = {record.shard for record in shards}
    missing: dict[str, str] = {}
    for label, entries in sorted(origin.planned.items()):
        for entry in entries:
            name = parse_entry(entry)[0]
            if name not in ran and name not in missing:
                why = "whose record was not given" if label not in given else "which did not run it"
                missing[name] = f"ran on no shard: the plan put it on shard {label}, {why}"
    return [
        StageRecord(number=numbers.get(name, 0), name=name, status=StageStatus.ERROR, error=error)
        for name, error in missing.items()
    ]


def seen_parts(stage: StageRecord) -> list[tuple[str, str]]:
    """(stage, part label) of each part a shard's stage ran."""
    return [(stage.name, part.part) for part in stage.parts]
