"""workflow.toml as frozen, typed values.

Every later step receives these values, never raw dictionaries or click contexts, so a
typo is caught once, before anything runs (`configfile/schema.py` turns TOML data into them,
collecting every problem at once). They are plain dataclasses rather than a validation
library's models because the configuration is read on the path to the first stage: its
cost is paid by every run, before any work starts.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal


class Strategy(StrEnum):
    """How the pool runs stages (the seed's five strategies)."""

    SEQUENTIAL = "sequential"
    THREAD = "thread"
    PROCESS = "process"
    HYBRID = "hybrid"
    ADAPTIVE = "adaptive"


class Lane(StrEnum):
    """How much checking a change deserves."""

    DOCS = "docs"
    STANDARD = "standard"
    HEAVY = "heavy"


Workers = int | Literal["auto"]
StageKind = Literal["io", "cpu"]
SelectSetting = Literal["all", "affected", "shadow"]


def _frozen_mapping(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class WorkflowSection:
    """Where the history database, the reports and the result cache live, relative to
    the config file."""

    history: str = ".workflow/history.db"
    reports: str = ".workflow/reports"
    cache: str = ".workflow/cache"  # "" turns the result cache off
    cache_size_mb: float = 500.0  # least recently used entries go first past this
    cache_verify: float = 0.0  # share of would-be cache hits run anyway and compared (0-1)


@dataclass(frozen=True)
class StageConfig:
    """One stage: a command (`run`) or a Python callable (`call`)."""

    number: int = 0
    run: tuple[str, ...] | None = None
    call: str | None = None
    cwd: str = "."
    timeout: float = 900.0
    kill_grace: float = 5.0
    serial: bool = False  # the resource "everything" with a limit of 1
    # True: it may change the sources (a code generator, a formatter on purpose); its
    # changes are listed, and it runs alone. False: a change it makes fails it.
    writes: bool = False
    uses: tuple[str, ...] = ()  # names in [resources]: held while the stage runs
    kind: StageKind | None = None
    needs: tuple[str, ...] = ()
    retries: int = 0
    env: Mapping[str, str] = field(default_factory=_frozen_mapping)
    # Result cache: None = every file git tracks or would track under `cwd`.
    inputs: tuple[str, ...] | None = None
    cache_env: tuple[str, ...] = ()  # variables whose values are part of the key
    cache: bool = True  # False: the stage always runs
    # None: a pytest stage gets a JUnit file, others none; False: never; a path (relative
    # to `cwd`): the JUnit file the stage's own tool writes.
    junit: str | Literal[False] | None = None
    rerun_failed: int = 0  # reruns of a pytest stage's failed tests alone
    # A pytest stage cut into this many parts by test file ("auto": as many as shorten the
    # run, from history; model/splitplan.py); None or 1: one process.
    split: int | Literal["auto"] | None = None
    # Test selection (DESIGN "Test selection"): "affected" runs only the tests a change can
    # affect; "shadow" runs every test and records what "affected" would have skipped.
    select: SelectSetting = "all"

    @property
    def display_command(self) -> str:
        """The command as a person would type it, for plans and reports."""
        if self.run is not None:
            return shlex.join(self.run)
        return f"call {self.call}"


@dataclass(frozen=True)
class LaneConfig:
    """What a lane runs and the targets it is held to."""

    stages: tuple[str, ...] | None = None
    strategy: Strategy = Strategy.ADAPTIVE
    workers: Workers = "auto"
    stage_sla: float = 30.0
    budget: float = 900.0
    fail_fast: bool = False
    sla: Mapping[str, float] = field(default_factory=_frozen_mapping)
    max_rss_mb: Mapping[str, float] = field(default_factory=_frozen_mapping)

    def target_for(self, stage: str) -> float:
        """The stage's duration target: its override, else the lane's `stage_sla`."""
        return self.sla.get(stage, self.stage_sla)


# The seed's lane table; heavy stays adaptive by default because eight process workers on
# a two-core runner is the oversubscription this tool exists to avoid.
LANE_DEFAULTS: Mapping[Lane, LaneConfig] = MappingProxyType(
    {
        Lane.DOCS: LaneConfig(
            strategy=Strategy.THREAD, workers=2, stage_sla=10.0, budget=300.0, fail_fast=True
        ),
        Lane.STANDARD: LaneConfig(stage_sla=30.0, budget=900.0),
        Lane.HEAVY: LaneConfig(stage_sla=60.0, budget=1200.0),
    }
)


@dataclass(frozen=True)
class LanesConfig:
    """The three lanes; keys a user leaves out keep the lane's own defaults."""

    docs: LaneConfig = LANE_DEFAULTS[Lane.DOCS]
    standard: LaneConfig = LANE_DEFAULTS[Lane.STANDARD]
    heavy: LaneConfig = LANE_DEFAULTS[Lane.HEAVY]

    def get(self, lane: Lane) -> LaneConfig:
        """The settings of one lane."""
        result: LaneConfig = getattr(self, lane.value)
        return result


@dataclass(frozen=True)
class DetectConfig:
    """Rules that pick a lane from the changed paths (gitignore-style globs)."""

    docs: tuple[str, ...] = ("**/*.md", "**/*.rst", "docs/**", "LICENSE*")
    heavy: tuple[str, ...] = (
        "pyproject.toml",
        "requirements*.txt",
        "**/*.lock",
        ".github/**",
        "workflow.toml",
    )
    heavy_files: int = 40
    heavy_lines: int = 800


@dataclass(frozen=True)
class SlaConfig:
    """How stage durations are judged against their targets."""

    warning_ratio: float = 0.8
    critical: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrendConfig:
    """When a slower series counts as a regression rather than runner noise."""

    recent: int = 5
    baseline: int = 20
    min_increase: float = 0.10
    min_seconds: float = 0.5
    significance: float = 0.02
    # A test's slowdown is named from this many seconds up (a stage's floor is
    # `min_seconds`): a 0.00 s test that now takes 0.08 s is noise, not a finding.
    test_min_seconds: float = 0.1


@dataclass(frozen=True)
class WorkflowConfig:
    """The whole configuration, as DESIGN.md's workflow.toml describes it."""

    workflow: WorkflowSection = WorkflowSection()
    stages: Mapping[str, StageConfig] = field(default_factory=_frozen_mapping)
    lanes: LanesConfig = LanesConfig()
    detect: DetectConfig = DetectConfig()
    sla: SlaConfig = SlaConfig()
    trend: TrendConfig = TrendConfig()
    # [resources]: name -> how many stages that `use` it may run at once (positive int)
    resources: Mapping[str, int] = field(default_factory=_frozen_mapping)

    def ordered_stages(self) -> list[tuple[str, StageConfig]]:
        """Stages by number, then by the order they were declared."""
        return sorted(self.stages.items(), key=lambda item: item[1].number)
