"""What earlier runs say about each stage: the expected duration, CPU use and memory.

The adaptive strategy orders and admits stages by these figures. They come from the
history database when there is one, else from the run records left in the reports
directory, so even a project without history learns from its last runs.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RECENT_RUNS = 10


@dataclass(frozen=True)
class StageProfile:
    """What earlier runs measured for a stage (medians)."""

    duration_s: float
    cpu_percent: float
    peak_rss_bytes: int = 0
    samples: int = 1


def profiles_from_reports(reports: Path, lane: str | None = None) -> dict[str, StageProfile]:
    """Median figures of each stage's passed runs among the latest run records."""
    records = sorted(reports.glob("*/run.json"), key=_mtime, reverse=True)
    stages: dict[str, list[dict[str, object]]] = {}
    used = 0
    for path in records:
        if used >= RECENT_RUNS:
            break
        data = _load(path)
        if data is None or (lane is not None and data.get("lane") != lane):
            continue
        used += 1
        for stage in _stages(data):
            if stage.get("status") == "passed":
                stages.setdefault(str(stage.get("name")), []).append(stage)
    return {name: _profile(samples) for name, samples in stages.items()}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _load(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _stages(data: dict[str, object]) -> Iterable[dict[str, object]]:
    stages = data.get("stages")
    if isinstance(stages, list):
        yield from (s for s in stages if isinstance(s, dict))


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _profile(samples: list[dict[str, object]]) -> StageProfile:
    return StageProfile(
        duration_s=statistics.median([_number(s.get("duration_s")) for s in samples]),
        cpu_percent=statistics.median([_number(s.get("cpu_percent")) for s in samples]),
        peak_rss_bytes=int(statistics.median([_number(s.get("peak_rss_bytes")) for s in samples])),
        samples=len(samples),
    )
