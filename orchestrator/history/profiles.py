"""What earlier runs say about each stage: the expected duration, CPU use and memory.

The adaptive strategy orders and admits stages by these figures. They come from the
history database when there is one, else from the run records left in the reports
directory, so even a project without history learns from its last runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.model.run_order import newest_first
from orchestrator.model.stats import median
from orchestrator.model.textinput import read_text

RECENT_RUNS = 10  # the runs a profile is the median of, from history or the reports
SCAN_LIMIT = 100  # run records read at most, newest written first


@dataclass(frozen=True)
class StageProfile:
    """What earlier runs measured for a stage (medians)."""

    duration_s: float
    cpu_percent: float
    peak_rss_bytes: int = 0
    samples: int = 1


def profiles_from_reports(reports: Path, lane: str | None = None) -> dict[str, StageProfile]:
    """Median figures of each stage's passed runs among the latest run records.

    "Latest" is the history's order (`run_order`): by `started_at`, and records that
    started in the same instant by when their file was last written. A file's time alone
    would put a long run that started first after the short ones started later.
    """
    stages: dict[str, list[dict[str, object]]] = {}
    for data in latest_records(reports, lane)[:RECENT_RUNS]:
        for stage in _stages(data):
            cache = stage.get("cache")
            reused = isinstance(cache, dict) and cache.get("hit") is True
            if stage.get("status") == "passed" and not reused:
                stages.setdefault(str(stage.get("name")), []).append(stage)
    return {name: _profile(samples) for name, samples in stages.items()}


def latest_records(reports: Path, lane: str | None = None) -> list[dict[str, object]]:
    """The readable `<reports>/*/run.json` of this lane (any lane for None), newest first."""
    written: list[tuple[float, str, dict[str, object]]] = []
    # Read before the first stage starts: only the most recently written files are
    # opened, so a reports directory of thousands of runs costs a directory listing.
    try:
        found = reports.glob("*/run.json")
        paths = sorted(found, key=_mtime, reverse=True)[:SCAN_LIMIT]
    except OSError:  # a reports path no file system takes (a name too long): no records
        paths = []
    for path in paths:
        data = _load(path)
        if data is not None and (lane is None or data.get("lane") == lane):
            written.append((_mtime(path), path.parent.name, data))
    written.sort(key=lambda item: item[:2], reverse=True)  # newest written first
    return newest_first((data for *_, data in written), _started_at)


def _started_at(data: dict[str, object]) -> str:
    return str(data.get("started_at", ""))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _load(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(read_text(path))
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
    return profile_of(
        [
            (
                _number(s.get("duration_s")),
                _number(s.get("cpu_percent")),
                _number(s.get("peak_rss_bytes")),
            )
            for s in samples
        ]
    )


def profile_of(samples: Sequence[tuple[float, float, float]]) -> StageProfile:
    """The profile of (duration s, CPU %, peak RSS bytes) samples: each figure's median.

    The one place a stage profile is built, for the history database and the reports
    directory alike. Raises ValueError for no samples.
    """
    return StageProfile(
        duration_s=median([s[0] for s in samples]),
        cpu_percent=median([s[1] for s in samples]),
        peak_rss_bytes=int(median([s[2] for s in samples])),
        samples=len(samples),
    )
