"""A split stage whose parts ran on several shards, made one stage again by `workflow merge`.

Each shard's record has the stage with the parts it ran; the merged stage has all of
them, each marked with its shard. Its figures follow the shards' timeline (every shard
from its own start, side by side): from its first part's start to its last part's end;
CPU seconds added; peak memory the largest of one runner's (the runners are separate
machines). Parts no shard reports did not run: the stage then has not passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from orchestrator.model.partlabel import PartLabel
from orchestrator.model.records import StagePart, StageRecord
from orchestrator.model.splitcheck import collection_error
from orchestrator.model.status import StageStatus
from orchestrator.model.testresults import merge_summaries


def part_index(part: StagePart) -> tuple[int, int]:
    """(K, N) of a part's "K/N" label ((0, 0) for a label that is not one)."""
    return PartLabel.parse(part.part) or (0, 0)


def fold_stage(occurrences: Sequence[tuple[str, StageRecord]]) -> StageRecord:
    """One stage from its records in several shards ((shard label, record) pairs, each
    with `parts`); a single occurrence keeps its figures, its parts marked with the shard."""
    parts = sorted(
        (replace(part, shard=label) for label, stage in occurrences for part in stage.parts),
        key=part_index,
    )
    first = occurrences[0][1]
    total = max((part_index(part)[1] for part in parts), default=0)
    missing = sorted(set(range(1, total + 1)) - {part_index(part)[0] for part in parts})
    bad = next((p for p in parts if p.status is not StageStatus.PASSED), None)
    start = min(stage.start_offset_s for _, stage in occurrences)
    end = max(stage.start_offset_s + stage.duration_s for _, stage in occurrences)
    cpu = sum(stage.cpu_seconds for _, stage in occurrences)
    summaries = [stage.tests for _, stage in occurrences if stage.tests is not None]
    status: StageStatus = StageStatus.PASSED
    code: int | None = 0
    error: str | None = None
    if bad is not None:
        status, code, error = bad.status, bad.exit_code, f"part {bad.part}: {bad.error or 'failed'}"
    elif missing:
        shown = ", ".join(str(PartLabel(k, total)) for k in missing)
        status, code = StageStatus.FAILED, None
        error = f"parts {shown} did not run: no shard's record has them"
    elif (differ := collection_error(parts)) is not None:
        status, code, error = StageStatus.FAILED, None, differ
    duration = max(0.0, end - start)
    return replace(
        first,
        status=status,
        exit_code=code,
        error=error,
        attempts=max(stage.attempts for _, stage in occurrences),
        start_offset_s=round(start, 4),
        duration_s=round(duration, 4),
        cpu_seconds=round(cpu, 4),
        cpu_percent=round(100.0 * cpu / duration, 1) if duration > 0 else 0.0,
        peak_rss_bytes=max(stage.peak_rss_bytes for _, stage in occurrences),
        worker=" + ".join(label for label, _ in occurrences),
        tests=merge_summaries(summaries) if summaries else None,
        parts=tuple(parts),
        cache=None,
    )


def join_part_logs(run_dir: Path, stage: StageRecord) -> None:
    """Write the merged stage's log: each part's log (copied from its shard) under a line
    naming the part and its shard. Raises OSError when it cannot be written."""
    if stage.log is None:
        return
    chunks: list[bytes] = []
    for part in stage.parts:
        chunks.append(f"--- workflow: part {part.part} (shard {part.shard}) ---\n".encode())
        try:
            chunks.append((run_dir / part.log).read_bytes() if part.log else b"")
        except OSError as exc:
            chunks.append(f"(the part's log cannot be read: {exc.strerror})\n".encode())
    (run_dir / stage.log).write_bytes(b"".join(chunks))
