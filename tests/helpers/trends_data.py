"""Hand-built run records for the history and trend tests (this module holds no tests)."""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from orchestrator.model.records import (
    GitRecord,
    HostRecord,
    PoolRecord,
    RunRecord,
    SlaRecord,
    StageRecord,
    StageSla,
    StageStatus,
)

RUNNER = "linux | Test CPU @ 2.0GHz | 2 cores"
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
MIB = 1024 * 1024
NOISE_CV = 0.15
SIGMA = math.sqrt(math.log(1 + NOISE_CV**2))  # log-normal noise with a 15% CV


def stage(  # noqa: PLR0913 - a record builder: keyword-only fields with defaults
    name: str,
    duration: float,
    *,
    number: int = 2,
    status: StageStatus = StageStatus.PASSED,
    cpu: float = 90.0,
    rss: int = 100 * MIB,
    target: float | None = 60.0,
) -> StageRecord:
    """One stage's record."""
    return StageRecord(
        number=number,
        name=name,
        status=status,
        exit_code=0 if status is StageStatus.PASSED else 1,
        attempts=1,
        duration_s=duration,
        cpu_seconds=duration * cpu / 100,
        cpu_percent=cpu,
        peak_rss_bytes=rss,
        sla=StageSla(target_s=target),
    )


def run(  # noqa: PLR0913 - a record builder: keyword-only fields with defaults
    index: int,
    stages: Sequence[StageRecord],
    *,
    lane: str = "heavy",
    runner: str = RUNNER,
    exit_code: int = 0,
    throughput: float | None = None,
    budget: float | None = 1200.0,
) -> RunRecord:
    """A finished run, `index` hours after the first, its total the sum of its stages."""
    total = sum(s.duration_s for s in stages)
    return RunRecord(
        run_id=f"run-{index:04d}-{lane}-{zlib.crc32(runner.encode()) % 1000:03d}",
        started_at=(START + timedelta(hours=index)).isoformat(),
        lane=lane,
        strategy="adaptive",
        workers=2,
        git=GitRecord(sha=f"{index:040x}", branch="main"),
        host=HostRecord(cpus=2, memory_bytes=8 * 1024 * MIB, python="3.11.9", runner_class=runner),
        stages=tuple(stages),
        pool=PoolRecord(
            total_duration_s=total,
            throughput_tasks_per_s=throughput if throughput is not None else len(stages) / total,
            completed=len(stages),
            total=len(stages),
        ),
        sla=SlaRecord(budget_s=budget),
        exit_code=exit_code,
        finished=True,
    )


def runs_from(series: Mapping[str, Sequence[float]], **options: object) -> list[RunRecord]:
    """One run per position; each stage's duration taken from its own series."""
    count = len(next(iter(series.values())))
    numbers = {name: number for number, name in enumerate(series, start=2)}
    return [
        run(
            index,
            [stage(name, values[index], number=numbers[name]) for name, values in series.items()],
            **options,  # type: ignore[arg-type]  # run()'s own keywords, passed through
        )
        for index in range(count)
    ]


def seeded(seed: int) -> random.Random:
    """A reproducible generator for synthetic durations (statistics, not secrets)."""
    # Seeded on purpose: the statistics tests must draw the same noise every time.
    return random.Random(seed)  # nosec B311


def noisy(rng: random.Random, level: float, count: int) -> list[float]:
    """`count` durations around `level` with log-normal noise of 15% CV (mean preserved)."""
    return [level * math.exp(rng.gauss(-(SIGMA**2) / 2, SIGMA)) for _ in range(count)]


def stepped(seed: int, *, baseline: int = 20, recent: int = 5, step: float = 1.0) -> list[float]:
    """A 10 s series: `baseline` runs, then `recent` runs scaled by `step`, same noise."""
    rng = seeded(seed)
    values = noisy(rng, 10.0, baseline + recent)
    return values[:baseline] + [value * step for value in values[baseline:]]
