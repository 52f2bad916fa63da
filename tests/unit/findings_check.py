"""Every figure a finding or the headline quotes, checked against the record it came from.

Shared by the property tests over generated records and the real ones kept beside them
(tests/unit/records/). The checks read the sentences as a user does: a stage "started
at" the record's start, "waited" no longer than between its needs' end and its start,
"ran" its recorded duration, the critical path never longer than the run, "→" only
where the later stage needs the earlier, each saving no more than the replay computes
for that very change, and nothing about speed on a run whose timing says nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.records import Bottleneck, RunRecord, wall_time_s
from orchestrator.model.units import seconds
from orchestrator.model.whatif import Link
from sla.bottlenecks import attach_bottlenecks, facts, floor_s
from sla.chain import path_span_s, ready_s, waited_s
from sla.headline import headline
from sla.schedule import change_for
from sla.timing import why_untimed

NAME = r"[\w.\[\]/-]+"
FIGURE = r"(\d+(?:\.\d+)?)s"
TIME_KINDS = {"critical_path", "queue", "need_wait", "core_wait", "worker_wait"}


def judged(record: RunRecord) -> RunRecord:
    """The record judged afresh: its findings, path and reason made by today's rules."""
    bare = replace(record, bottlenecks=(), pool=replace(record.pool, critical_path=(), waited=()))
    return attach_bottlenecks(bare, replay_record(bare))


def check(record: RunRecord) -> None:
    """Assert that every sentence about `record`'s time agrees with `record`."""
    wall = wall_time_s(record)
    texts = [headline(record)] + [f"{b.detail} {b.recommendation}" for b in record.bottlenecks]
    timed = [b for b in record.bottlenecks if b.saving_s is not None]
    if why_untimed(record) is not None or record.pool.untimed:
        assert not timed, f"speed findings on a run whose timing says nothing: {timed}"
        assert record.pool.critical_path == ()
        assert "critical path" not in texts[0]
    for text in texts:
        _check_text(record, text)
    if record.pool.critical_path:
        assert path_span_s(record, record.pool.critical_path) <= wall + 1e-9
        assert all(record.stage(name) is not None for name in record.pool.critical_path)
    _check_savings(record, timed)


def _check_text(record: RunRecord, text: str) -> None:
    wall = wall_time_s(record)
    if text.startswith("The run took"):
        assert text.startswith(f"The run took {seconds(wall)}"), text
    for span in re.findall(rf"\({FIGURE} on the critical path\)", text):
        assert float(span) <= float(seconds(wall)[:-1]), text
    for name, figure in re.findall(rf"({NAME}) started at {FIGURE}", text):
        stage = record.stage(name)
        assert stage is not None and figure + "s" == seconds(stage.start_offset_s), text
    for name, figure in re.findall(rf"({NAME}) waited {FIGURE}", text):
        stage = record.stage(name)
        assert stage is not None and figure + "s" == seconds(waited_s(record, stage)), text
        assert float(figure) <= float(seconds(stage.start_offset_s)[:-1]), text
    waits = rf"({NAME}) waited {FIGURE}[^:]*: ready at {FIGURE}, started at {FIGURE}"
    for name, _, ready, start in re.findall(waits, text):
        stage = record.stage(name)
        assert stage is not None and ready + "s" == seconds(ready_s(record, stage)), text
        assert start + "s" == seconds(stage.start_offset_s), text
    for name, ready in re.findall(rf"({NAME}) started at [^,]*, when .* ended at {FIGURE}", text):
        stage = record.stage(name)
        assert stage is not None and ready + "s" == seconds(ready_s(record, stage)), text
    for name, figure in re.findall(rf"(?<![\w.-])({NAME}) ran {FIGURE}", text):
        stage = record.stage(name)
        assert stage is not None and figure + "s" == seconds(stage.duration_s), text
    for earlier, later in re.findall(rf"({NAME}) → ({NAME})", text):
        stage = record.stage(later)
        assert stage is not None and earlier in stage.needs, f"{earlier} → {later}: {text}"


def _check_savings(record: RunRecord, timed: list[Bottleneck]) -> None:
    wall = wall_time_s(record)
    replay = replay_record(record)
    run = facts(record)
    assert sum(b.saving_s or 0.0 for b in timed) <= wall + 1e-6
    for finding in timed:
        saving = finding.saving_s or 0.0
        assert saving >= floor_s(wall) and saving > 0, finding
        change = change_for(run, finding)
        if change is not None:
            assert saving <= replay.saving(change) + 1e-9, (finding, replay.saving(change))
        about = re.search(rf"take the run to about {FIGURE}", finding.detail)
        if about:
            assert about.group(1) + "s" == seconds(max(0.0, wall - saving)), finding.detail
        if finding.kind in ("core_wait", "worker_wait"):
            name = re.match(rf"({NAME}) waited", finding.detail)
            assert name is not None
            assert name.group(1) in record.pool.critical_path, finding.detail
            placed = replay.placements[name.group(1)]
            wanted = (Link.CORE, Link.PART) if finding.kind == "core_wait" else (Link.WORKER,)
            assert placed.link in wanted, (finding.detail, placed)
        assert finding.kind in TIME_KINDS | {"slow_tests"}, finding.kind
