"""Whether a replay reproduces the run it replays: only then may findings quote it.

A saving is the difference between two replays, the run as it was and the run with one
change; it describes the run only when the first replay is the run: every stage starts
where the record has it, and the replayed wall time is the recorded one, within a
tolerance for what the pool does between an end and the next start. When something the
replay does not model shaped the run (a machine that stalled, a merged run's several
runners), no saving is claimed and the reports say why.
"""

from __future__ import annotations

from orchestrator.model.records import RunRecord, wall_time_s
from orchestrator.model.units import seconds
from orchestrator.model.whatif import Replayed

AGREE_S = 0.5  # seconds a replayed start may differ from the recorded one...
AGREE_SHARE = 0.05  # ...or this share of the run's wall time, whichever is larger


def tolerance_s(record: RunRecord) -> float:
    """How far a replayed start or wall time may be from the record's and still agree."""
    return max(AGREE_S, AGREE_SHARE * wall_time_s(record))


def disagreement(record: RunRecord, replay: Replayed) -> str | None:
    """Where the replay leaves the record (a clause for the headline), or None.

    A merged run is several runners' schedules side by side, each from its own start:
    one pool's replay cannot be it, and each shard's own report has its findings.
    """
    if record.shards:
        return (
            f"its {len(record.shards)} shards ran on separate runners, each with its own "
            "schedule: each shard's own report says what would save time there"
        )
    limit = tolerance_s(record)
    for stage in record.stages:
        placed = replay.placements.get(stage.name)
        if placed is None or abs(placed.start_s - stage.start_offset_s) <= limit:
            continue
        return (
            f"its schedule cannot be replayed: {stage.name} started at "
            f"{seconds(stage.start_offset_s)}, the replay starts it at {seconds(placed.start_s)}"
        )
    wall = wall_time_s(record)
    if abs(replay.wall_s - wall) > limit:
        return (
            f"its schedule cannot be replayed: the replay takes {seconds(replay.wall_s)}, "
            f"the run took {seconds(wall)}"
        )
    return None
