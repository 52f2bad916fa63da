"""What the benchmark measures and the figures it derives (medians, ratios, targets)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SDIST_CACHE = BENCH_DIR / ".work" / "sdist"
PROJECT = "sqlparse"
PROJECT_VERSION = "0.6.1"
WORKLOADS = ("true", "sleep", "real")
TRUE_TARGET_S = 0.4
SLEEP_TARGET_S = 1.25
LOWER_BOUND_SLACK = 1.10
PLAIN_RUNNERS = ("sequential", "make")
_DROPPED_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHONDONTWRITEBYTECODE")


# -- what is measured ------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """One stage: the same argv and directory for every runner."""

    name: str
    argv: tuple[str, ...]
    cwd: Path


@dataclass(frozen=True)
class Workload:
    """Five stages and the directory that holds the generated files."""

    key: str
    title: str
    stages: tuple[Stage, ...]
    root: Path


@dataclass(frozen=True)
class Engine:
    """One way of starting `workflow`: the installed one, or another checkout's."""

    key: str  # "workflow" or "compare"
    label: str
    argv: tuple[str, ...]
    env: dict[str, str]
    config: str  # file name of its workflow.toml (each engine has its own reports dir)


@dataclass(frozen=True)
class Context:
    """How to start things: the plain runners' environment and the engines."""

    env: dict[str, str]
    engines: tuple[Engine, ...]
    cores: int
    runs: int


@dataclass(frozen=True)
class Sample:
    """One process measured: wall time, CPU of its whole tree (wait4), exit code."""

    wall_s: float
    cpu_s: float
    exit_code: int


@dataclass(frozen=True)
class WorkflowSample:
    """One `workflow run`, with what its run record says."""

    sample: Sample
    pool_s: float
    monitor_cpu_s: float
    stage_cpu_s: float
    stages: tuple[dict[str, Any], ...]


@dataclass
class Measurements:
    """Every sample of one workload, by runner ("sequential", "make", engine keys)."""

    runners: dict[str, list[Sample]] = field(default_factory=dict)
    workflow: dict[str, list[WorkflowSample]] = field(default_factory=dict)
    alone: dict[str, list[Sample]] = field(default_factory=dict)


# -- figures -----------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    """The median, or nan for no values."""
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class EngineFigures:
    """What one engine's run records say, medians over its runs."""

    pool_s: float
    outside_pool_s: float
    monitor_cpu_s: float
    own_cpu_s: float


@dataclass(frozen=True)
class Summary:
    """The medians and ratios of one workload."""

    key: str
    title: str
    wall: dict[str, float]
    spread: dict[str, tuple[float, float]]
    cpu: dict[str, float]
    engines: dict[str, EngineFigures]
    alone_wall: dict[str, float]
    alone_cpu: dict[str, float]
    lower_bound_s: float
    round_bounds: tuple[float, ...]  # the lower bound from each round's own stage runs
    paired: dict[str, float]  # median over rounds of a runner's wall / that round's bound
    failures: tuple[str, ...]

    def ratio(self, engine: str, other: str) -> float:
        """An engine's median wall over another runner's (or the lower bound's)."""
        base = self.lower_bound_s if other == "bound" else self.wall[other]
        return self.wall[engine] / base if base > 0 else float("inf")

    def target(self, engine: str) -> tuple[str, bool]:
        """The workload's target and whether the engine's medians meet it."""
        wall = self.wall[engine]
        if self.key == "true":
            return f"wall < {TRUE_TARGET_S:g} s", wall < TRUE_TARGET_S
        if self.key == "sleep":
            return f"wall <= {SLEEP_TARGET_S:g} s", wall <= SLEEP_TARGET_S
        text = (
            f"faster than make -j5 and <= {LOWER_BOUND_SLACK:.2f} x the lower bound "
            "(median of the rounds' paired ratios)"
        )
        return text, wall < self.wall["make"] and self.paired[engine] <= LOWER_BOUND_SLACK


def summarize(workload: Workload, data: Measurements, cores: int) -> Summary:
    """Medians, the lower bound and the engines' own figures."""
    alone_wall = {n: median([s.wall_s for s in v]) for n, v in data.alone.items()}
    alone_cpu = {n: median([s.cpu_s for s in v]) for n, v in data.alone.items()}
    bound = max(*alone_wall.values(), sum(alone_cpu.values()) / cores)
    rounds = min(len(v) for v in data.alone.values())
    round_bounds = tuple(
        max(
            *(v[r].wall_s for v in data.alone.values()),
            sum(v[r].cpu_s for v in data.alone.values()) / cores,
        )
        for r in range(rounds)
    )
    paired = {
        runner: median([s.wall_s / b for s, b in zip(v, round_bounds, strict=False) if b > 0])
        for runner, v in data.runners.items()
    }
    return Summary(
        key=workload.key,
        title=workload.title,
        wall={r: median([s.wall_s for s in v]) for r, v in data.runners.items()},
        spread={
            r: (min(s.wall_s for s in v), max(s.wall_s for s in v)) for r, v in data.runners.items()
        },
        cpu={r: median([s.cpu_s for s in v]) for r, v in data.runners.items()},
        engines={key: engine_figures(samples) for key, samples in data.workflow.items()},
        alone_wall=alone_wall,
        alone_cpu=alone_cpu,
        lower_bound_s=bound,
        round_bounds=round_bounds,
        paired=paired,
        failures=failures(data),
    )


def engine_figures(samples: list[WorkflowSample]) -> EngineFigures:
    """Pool time, time outside the pool, the monitor's CPU and workflow's own CPU."""
    return EngineFigures(
        pool_s=median([w.pool_s for w in samples]),
        outside_pool_s=median([w.sample.wall_s - w.pool_s for w in samples]),
        monitor_cpu_s=median([w.monitor_cpu_s for w in samples]),
        own_cpu_s=median([w.sample.cpu_s - w.stage_cpu_s for w in samples]),
    )


def failures(data: Measurements) -> tuple[str, ...]:
    """Every run that did not exit 0 and every workflow stage that did not pass."""
    found = {f"{r} exited {s.exit_code}" for r, v in data.runners.items() for s in v if s.exit_code}
    found |= {
        f"{n} alone exited {s.exit_code}" for n, v in data.alone.items() for s in v if s.exit_code
    }
    found |= {
        f"{key}: stage {stage.get('name')} {stage.get('status')}"
        for key, samples in data.workflow.items()
        for sample in samples
        for stage in sample.stages
        if stage.get("status") != "passed"
    }
    return tuple(sorted(found))


def runner_row(label: str, width: int, wall: float, spread: tuple[float, float], cpu: float) -> str:
    """One runner's line: its median wall time, the spread of its rounds, its CPU seconds."""
    low, high = spread
    return f"  {label:<{width}} {wall:8.3f} s  ({low:.3f}..{high:.3f})  cpu {cpu:7.3f} s"


def end_note(started: float) -> str:
    """The closing line: the load average, and how long the benchmark took since `started`
    (a `time.perf_counter()` reading)."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"\nload average at end: {load}; the benchmark took {time.perf_counter() - started:.0f} s"
    )
