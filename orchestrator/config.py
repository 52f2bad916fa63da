"""workflow.toml parsed once into frozen, validated models.

Every later step receives these models, never raw dictionaries or click contexts, so a
typo is caught here, before anything runs. Problems are collected, not raised one at a
time: a user fixing a config wants the whole list (see `loader.py`).
"""

from __future__ import annotations

import shlex
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)


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


PositiveSeconds = Annotated[float, Field(gt=0)]
Workers = int | Literal["auto"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class WorkflowSection(_Frozen):
    """Where the history database and the reports live, relative to the config file."""

    history: str = ".workflow/history.db"
    reports: str = ".workflow/reports"


class StageConfig(_Frozen):
    """One stage: a command (`run`) or a Python callable (`call`)."""

    number: int = Field(default=0, ge=0)
    run: tuple[str, ...] | None = None
    call: str | None = None
    cwd: str = "."
    timeout: PositiveSeconds = 900.0
    kill_grace: float = Field(default=5.0, ge=0)
    serial: bool = False
    kind: Literal["io", "cpu"] | None = None
    needs: tuple[str, ...] = ()
    retries: int = Field(default=0, ge=0, le=10)
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("run", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        # A string is split the way a shell would split it, but never run by a shell.
        if isinstance(value, str):
            try:
                return tuple(shlex.split(value))
            except ValueError as exc:
                raise ValueError(f"cannot split the command: {exc}") from exc
        return value

    @field_validator("run")
    @classmethod
    def _command_not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("the command is empty")
        return value

    @field_validator("call")
    @classmethod
    def _call_is_module_function(cls, value: str | None) -> str | None:
        if value is None:
            return value
        module, sep, func = value.partition(":")
        if not sep or not module.strip() or not func.strip():
            raise ValueError('must look like "package.module:function"')
        return value

    @model_validator(mode="after")
    def _one_of_run_or_call(self) -> StageConfig:
        if (self.run is None) == (self.call is None):
            raise ValueError('needs exactly one of "run" (a command) or "call" (a function)')
        return self

    @property
    def display_command(self) -> str:
        """The command as a person would type it, for plans and reports."""
        if self.run is not None:
            return shlex.join(self.run)
        return f"call {self.call}"


class LaneConfig(_Frozen):
    """What a lane runs and the targets it is held to."""

    stages: tuple[str, ...] | None = None
    strategy: Strategy = Strategy.ADAPTIVE
    workers: Workers = "auto"
    stage_sla: PositiveSeconds = 30.0
    budget: PositiveSeconds = 900.0
    fail_fast: bool = False
    sla: dict[str, PositiveSeconds] = Field(default_factory=dict)
    max_rss_mb: dict[str, PositiveSeconds] = Field(default_factory=dict)

    @field_validator("workers")
    @classmethod
    def _positive_workers(cls, value: Workers) -> Workers:
        if isinstance(value, int) and value < 1:
            raise ValueError('must be a positive integer or "auto"')
        return value

    def target_for(self, stage: str) -> float:
        """The stage's duration target: its override, else the lane's `stage_sla`."""
        return self.sla.get(stage, self.stage_sla)


# The seed's lane table; heavy stays adaptive by default because eight process workers on
# a two-core runner is the oversubscription this tool exists to avoid.
LANE_DEFAULTS: dict[str, dict[str, Any]] = {
    "docs": {
        "strategy": "thread",
        "workers": 2,
        "stage_sla": 10.0,
        "budget": 300.0,
        "fail_fast": True,
    },
    "standard": {
        "strategy": "adaptive",
        "workers": "auto",
        "stage_sla": 30.0,
        "budget": 900.0,
        "fail_fast": False,
    },
    "heavy": {
        "strategy": "adaptive",
        "workers": "auto",
        "stage_sla": 60.0,
        "budget": 1200.0,
        "fail_fast": False,
    },
}


def _lane_with_defaults(name: str) -> Any:
    def build(value: Any) -> Any:
        if isinstance(value, dict):
            return {**LANE_DEFAULTS[name], **value}
        return value

    return build


class LanesConfig(_Frozen):
    """The three lanes; keys a user leaves out keep the lane's own defaults."""

    docs: LaneConfig = Field(default_factory=lambda: LaneConfig(**LANE_DEFAULTS["docs"]))
    standard: LaneConfig = Field(default_factory=lambda: LaneConfig(**LANE_DEFAULTS["standard"]))
    heavy: LaneConfig = Field(default_factory=lambda: LaneConfig(**LANE_DEFAULTS["heavy"]))

    @model_validator(mode="before")
    @classmethod
    def _fill_lane_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: _lane_with_defaults(key)(value) if key in LANE_DEFAULTS else value
            for key, value in data.items()
        }

    def get(self, lane: Lane) -> LaneConfig:
        """The settings of one lane."""
        result: LaneConfig = getattr(self, lane.value)
        return result


class DetectConfig(_Frozen):
    """Rules that pick a lane from the changed paths (gitignore-style globs)."""

    docs: tuple[str, ...] = ("**/*.md", "**/*.rst", "docs/**", "LICENSE*")
    heavy: tuple[str, ...] = (
        "pyproject.toml",
        "requirements*.txt",
        "**/*.lock",
        ".github/**",
        "workflow.toml",
    )
    heavy_files: int = Field(default=40, gt=0)
    heavy_lines: int = Field(default=800, gt=0)


class SlaConfig(_Frozen):
    """How stage durations are judged against their targets."""

    warning_ratio: float = Field(default=0.8, gt=0, le=1)
    critical: tuple[str, ...] = ()


class TrendConfig(_Frozen):
    """When a slower series counts as a regression rather than runner noise."""

    recent: int = Field(default=5, ge=2)
    baseline: int = Field(default=20, ge=3)
    min_increase: float = Field(default=0.10, ge=0)
    min_seconds: float = Field(default=0.5, ge=0)
    significance: float = Field(default=0.02, gt=0, lt=1)


class WorkflowConfig(_Frozen):
    """The whole configuration, as DESIGN.md's workflow.toml describes it."""

    workflow: WorkflowSection = Field(default_factory=WorkflowSection)
    stages: dict[str, StageConfig] = Field(default_factory=dict)
    lanes: LanesConfig = Field(default_factory=LanesConfig)
    detect: DetectConfig = Field(default_factory=DetectConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    trend: TrendConfig = Field(default_factory=TrendConfig)

    def ordered_stages(self) -> list[tuple[str, StageConfig]]:
        """Stages by number, then by the order they were declared."""
        return sorted(self.stages.items(), key=lambda item: item[1].number)
