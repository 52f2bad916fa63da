"""What the pool is asked to run (a stage spec) and what one attempt produced."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.model.runs import Runs, runs_of
from orchestrator.model.selection import SelectRun
from orchestrator.model.splitplan import SplitPlan
from orchestrator.model.status import StageStatus
from orchestrator.model.strategies import default_demand

Target = str | Callable[[], object]  # "pkg.module:function" or the function itself


@dataclass(frozen=True)
class StageSpec:
    """A stage as the pool sees it: a command or a callable, with its limits and hints."""

    name: str
    number: int = 0
    command: tuple[str, ...] | None = None
    call: Target | None = None
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    kill_grace: float = 5.0
    kind: str | None = None  # "cpu" or "io"; None: unknown
    serial: bool = False
    uses: tuple[str, ...] = ()  # shared resources held while it runs (limits: Capacity)
    needs: tuple[str, ...] = ()
    retries: int = 0
    expected_s: float | None = None
    cpu_demand: float | None = None  # cores it keeps busy, when known
    junit: str | bool | None = None  # the stage's `junit` key (engine/pytest/junit.py)
    rerun_failed: int = 0  # reruns of failed tests alone (engine/pytest/testrun.py)
    split: SplitPlan | None = None  # a pytest stage run as parts (engine/split.py)
    split_parts: tuple[int, ...] = ()  # the parts this run runs (from 0); empty: all
    select: SelectRun | None = None  # test selection (engine/pytest/selectrun.py)

    @property
    def display(self) -> str:
        """What the stage runs, for logs and records."""
        if self.command is not None:
            return shlex.join(self.command)
        target = self.call
        if callable(target):
            module = getattr(target, "__module__", "?")
            return f"call {module}:{getattr(target, '__qualname__', '?')}"
        return f"call {target}"

    @property
    def runs(self) -> Runs:
        """What the stage runs: a command, pytest or a callable (model/runs.py)."""
        return runs_of(self.command)

    @property
    def demand(self) -> float:
        """Cores to budget for this stage under adaptive admission."""
        if self.cpu_demand is not None:
            return self.cpu_demand
        return default_demand(self.kind)


@dataclass(frozen=True)
class Attempt:
    """The outcome of running a stage once."""

    status: StageStatus
    exit_code: int | None
    duration_s: float
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    error: str | None = None
    # The runner's problem that ended this attempt or kept it from starting (the OOM
    # killer, "Too many open files"), None when its outcome is the stage's own.
    runner_fault: str | None = None


def needs_own_process(spec: StageSpec) -> bool:
    """Whether a callable stage has settings only a process of its own can apply."""
    return bool(spec.env) or spec.cwd is not None or spec.timeout is not None


def check_in_thread(spec: StageSpec) -> None:
    """Refuse a function-object stage with `env` or `cwd`: threads share both with workflow.

    Raises ValueError (one sentence naming the stage) instead of silently dropping them.
    """
    if spec.command is None and not isinstance(spec.call, str):
        for key, value in (("env", spec.env), ("cwd", spec.cwd)):
            if value:
                raise ValueError(
                    f"stage {spec.name!r}: a function object runs in workflow's own process, "
                    f'which cannot give it its own {key}; name it as "pkg.module:function"'
                )
