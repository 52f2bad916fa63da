"""The one sentence a report leads with: how long the run took, what set it, what would help.

Read from the record alone (its wall time, `pool.critical_path` and ranked bottlenecks),
so `workflow report RUN.json` says the same as the run did.
"""

from __future__ import annotations

from orchestrator.model.records import Bottleneck, RunRecord, wall_time_s
from orchestrator.model.units import seconds
from sla.bottlenecks import floor_s

_CHANGE = {
    "critical_path": "Halving {stage}",
    "need_wait": "Starting {stage} without waiting for its needs",
    "cpu_starved": "Giving {stage} the cores it waited for",
    "worker_wait": "One more worker",
}


def _change(finding: Bottleneck, alone: str | None) -> str:
    if finding.kind == "critical_path" and finding.stage == alone:
        return "Halving it"
    return _CHANGE.get(finding.kind, "Acting on {stage}").format(stage=finding.stage or "it")


def headline(record: RunRecord) -> str:
    """E.g. "The run took 59.0s; integration sets it (58.9s on the critical path). Halving
    it would save 21.7s; nothing else would save more than 0.5s." ("" for no stages)."""
    wall = wall_time_s(record)
    if wall <= 0:
        return ""
    path = record.pool.critical_path
    on_path = sum(s.duration_s for s in record.stages if s.name in path)
    alone = path[0] if len(path) == 1 else None
    text = f"The run took {seconds(wall)}"
    if path:
        verb = "sets" if alone else "set"
        text += f"; {' → '.join(path)} {verb} it ({seconds(on_path)} on the critical path)"
    if record.pool.waited:
        text += f", then {', '.join(record.pool.waited)} only waited for a worker"
    least = seconds(floor_s(wall))
    saving = [b for b in record.bottlenecks if b.saving_s is not None]
    if not saving:
        return f"{text}. No single change found would save more than {least}."
    best = saving[0]
    text += f". {_change(best, alone)} would save {seconds(best.saving_s or 0.0)}; "
    if len(saving) == 1:
        return text + f"nothing else would save more than {least}."
    second = saving[1]
    change = _change(second, None)
    what = change[0].lower() + change[1:]
    return text + f"next, {what} would save {seconds(second.saving_s or 0.0)}."
