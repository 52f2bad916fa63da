"""The targets a run is held to, resolved once from the configuration and the lane.

Verdicts and reports take this small frozen value instead of the whole configuration, so
they can be computed (and tested) from hand-built records without a workflow.toml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from orchestrator.model.config import Lane, WorkflowConfig
from orchestrator.model.units import MIB


@dataclass(frozen=True)
class SlaPolicy:
    """Per-stage duration and memory targets, which stages are critical, and the run budget."""

    targets_s: Mapping[str, float]
    max_rss_bytes: Mapping[str, int] = field(default_factory=dict)
    critical: frozenset[str] = frozenset()
    warning_ratio: float = 0.8
    budget_s: float | None = None

    def __post_init__(self) -> None:
        # Read-only views: a policy is shared by the run, its reports and its tests.
        object.__setattr__(self, "targets_s", MappingProxyType(dict(self.targets_s)))
        object.__setattr__(self, "max_rss_bytes", MappingProxyType(dict(self.max_rss_bytes)))
        object.__setattr__(self, "critical", frozenset(self.critical))
        if not 0 < self.warning_ratio <= 1:
            raise ValueError(f"warning_ratio must be in (0, 1], not {self.warning_ratio}")

    def target_for(self, stage: str) -> float | None:
        """The stage's duration target in seconds, or None when none applies."""
        return self.targets_s.get(stage)

    def rss_target_for(self, stage: str) -> int | None:
        """The stage's peak-memory target in bytes, or None when none applies."""
        return self.max_rss_bytes.get(stage)

    def is_critical(self, stage: str) -> bool:
        """A breach of a critical stage fails the run (exit 3)."""
        return stage in self.critical


def policy_for(config: WorkflowConfig, lane: Lane, stages: Iterable[str]) -> SlaPolicy:
    """The lane's targets for these stages: per-stage overrides, else the lane's `stage_sla`."""
    lane_config = config.lanes.get(lane)
    names = tuple(stages)
    return SlaPolicy(
        targets_s={name: lane_config.target_for(name) for name in names},
        max_rss_bytes={
            name: int(lane_config.max_rss_mb[name] * MIB)
            for name in names
            if name in lane_config.max_rss_mb
        },
        critical=frozenset(config.sla.critical),
        warning_ratio=config.sla.warning_ratio,
        budget_s=lane_config.budget,
    )
