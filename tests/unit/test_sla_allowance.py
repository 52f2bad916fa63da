"""The savings of the findings kept never add up to more than the run's wall time."""

from __future__ import annotations

from orchestrator.model.records import Bottleneck
from sla.bottlenecks import within_wall


def finding(stage: str, kind: str, saving: float) -> Bottleneck:
    return Bottleneck(kind=kind, stage=stage, detail="", recommendation="", saving_s=saving)


def test_a_duplicate_finding_does_not_use_up_the_allowance() -> None:
    # Largest first: unit's second critical_path finding would have claimed 4 of the 10 s,
    # leaving no room for lint's 3 s, and then been dropped as a duplicate.
    ranked = [
        finding("unit", "critical_path", 5.0),
        finding("unit", "critical_path", 4.0),
        finding("lint", "cpu_starved", 3.0),
    ]
    kept = within_wall(ranked, wall=10.0)
    assert [(f.stage, f.saving_s) for f in kept] == [("unit", 5.0), ("lint", 3.0)]


def test_a_finding_past_the_wall_is_left_out() -> None:
    ranked = [finding("unit", "critical_path", 8.0), finding("lint", "cpu_starved", 3.0)]
    assert [f.stage for f in within_wall(ranked, wall=10.0)] == ["unit"]
