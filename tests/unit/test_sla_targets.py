"""SLA targets resolved from the configuration and the lane."""

from __future__ import annotations

import pytest

from orchestrator.configfile.schema import parse_config
from orchestrator.model.config import Lane, WorkflowConfig
from orchestrator.model.units import MIB
from sla.targets import SlaPolicy, policy_for


def config() -> WorkflowConfig:
    config, problems = parse_config(
        {
            "stages": {"lint": {"run": "ruff"}, "unit": {"run": "pytest"}},
            "lanes": {
                "heavy": {
                    "stage_sla": 60,
                    "budget": 1200,
                    "sla": {"unit": 90},
                    "max_rss_mb": {"unit": 2048},
                }
            },
            "sla": {"warning_ratio": 0.75, "critical": ["unit", "integration"]},
        }
    )
    assert config is not None, problems
    return config


def test_the_lane_target_applies_unless_a_stage_overrides_it() -> None:
    policy = policy_for(config(), Lane.HEAVY, ["lint", "unit"])
    assert policy.target_for("lint") == 60
    assert policy.target_for("unit") == 90
    assert policy.target_for("docs") is None
    assert policy.budget_s == 1200
    assert policy.warning_ratio == 0.75


def test_memory_targets_are_in_bytes_and_only_where_set() -> None:
    policy = policy_for(config(), Lane.HEAVY, ["lint", "unit"])
    assert policy.rss_target_for("unit") == 2048 * MIB
    assert policy.rss_target_for("lint") is None


def test_critical_stages_come_from_the_sla_table() -> None:
    policy = policy_for(config(), Lane.HEAVY, ["lint", "unit"])
    assert policy.is_critical("unit")
    assert not policy.is_critical("lint")


def test_other_lanes_keep_their_own_defaults() -> None:
    docs = policy_for(config(), Lane.DOCS, ["lint"])
    assert docs.target_for("lint") == 10
    assert docs.budget_s == 300


def test_a_policy_cannot_be_changed_after_the_fact() -> None:
    targets = {"lint": 5.0}
    policy = SlaPolicy(targets_s=targets)
    targets["lint"] = 500.0
    assert policy.target_for("lint") == 5.0
    with pytest.raises(TypeError):
        policy.targets_s["lint"] = 1.0  # type: ignore[index]  # the point: it is read-only


def test_a_warning_ratio_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="warning_ratio"):
        SlaPolicy(targets_s={}, warning_ratio=1.5)
