"""Splitting a lane's stages into N shards for N CI runners, balanced by history (pure).

Longest-processing-time-first: the longest expected unit of work goes onto the shard
whose predicted wall time stays the shortest with it. A shard runs its stages side by
side on its runner, so its predicted wall time is its longest stage or its total work
spread over `parallel` cores, whichever is longer (`parallel` = 1: the plain sum). A
unit is a stage together with every stage it is tied to by `needs` (a shard runs alone,
so a stage and the stage it needs must share one). A stage that history does not know
counts at the median of the known ones (1 s when none is known). The same stages and
durations always give the same plan: ties are broken by the stages' order in the lane,
so every runner of a matrix computes the shard it was given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from orchestrator.model.errors import UsageError
from orchestrator.model.partlabel import PartLabel
from orchestrator.model.splitplan import parse_entry
from orchestrator.model.stats import median
from orchestrator.model.status import ShardOrigin

UNKNOWN_DEFAULT_S = 1.0  # seconds: an unknown stage's weight when history knows none
NOTHING_LANE = "none"  # a plan's lane when the change leaves nothing to check


class Work(NamedTuple):
    """One stage to place: its name, expected seconds (None: unknown) and needs."""

    name: str
    expected_s: float | None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `total` (from 1): its stages in lane order and predicted seconds."""

    index: int
    total: int
    stages: tuple[str, ...]
    predicted_s: float

    @property
    def label(self) -> str:
        """ "K/N", as `workflow run --shard` takes it."""
        return str(PartLabel(self.index, self.total))


def parse_shard(text: str) -> tuple[int, int]:
    """ "K/N" -> (K, N) with 1 <= K <= N; UsageError naming --shard otherwise."""
    label = PartLabel.parse(text)
    if label is not None:
        return label.number, label.total
    raise UsageError(f'--shard: expected "K/N" with 1 <= K <= N (e.g. 2/3), not {text!r}.')


def plan_shards(works: Sequence[Work], total: int, parallel: float = 1.0) -> list[Shard]:
    """`total` shards (some may be empty when there are fewer units than shards).

    `parallel` is how many stages a runner keeps busy at once (its workers and cores,
    at least 1); `predicted_s` is each shard's predicted wall time in seconds.
    """
    if total < 1:
        raise UsageError(f"--shards: must be a positive integer, not {total}.")
    parallel = max(1.0, parallel)
    order = {work.name: i for i, work in enumerate(works)}
    weights = _weights(works)
    units = sorted(
        _units(works),
        key=lambda unit: (-sum(weights[n] for n in unit), min(order[n] for n in unit)),
    )
    loads = [0.0] * total  # work, seconds
    longest = [0.0] * total  # the longest unit on the shard, seconds
    members: list[list[str]] = [[] for _ in range(total)]

    def wall(i: int, work: float = 0.0) -> float:
        return max(longest[i], work, (loads[i] + work) / parallel)

    for unit in units:
        work = sum(weights[n] for n in unit)
        target = min(range(total), key=lambda i: (wall(i, work), loads[i], i))
        loads[target] += work
        longest[target] = max(longest[target], work)
        members[target].extend(unit)
    return [
        Shard(i + 1, total, tuple(sorted(members[i], key=order.__getitem__)), round(wall(i), 3))
        for i in range(total)
    ]


def _weights(works: Sequence[Work]) -> dict[str, float]:
    known = [w.expected_s for w in works if w.expected_s is not None]
    default = median(known) if known else UNKNOWN_DEFAULT_S
    return {w.name: w.expected_s if w.expected_s is not None else default for w in works}


def _units(works: Sequence[Work]) -> list[list[str]]:
    # Stages joined by `needs` (either way) form one unit: a small union-find.
    parent = {w.name: w.name for w in works}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for work in works:
        for need in work.needs:
            if need in parent:
                parent[root(work.name)] = root(need)
    groups: dict[str, list[str]] = {}
    for work in works:
        groups.setdefault(root(work.name), []).append(work.name)
    return list(groups.values())


def nothing_matrix(total: int) -> dict[str, Any]:
    """The matrix of a change that leaves nothing to check: `total` shards with no stages,
    in the lane "none". GitHub refuses a matrix with no entry ("Matrix vector 'include'
    does not contain any values"); each such shard writes a record (no stages, passed)
    and they merge cleanly."""
    include = [
        {"shard": str(PartLabel(k, total)), "lane": NOTHING_LANE, "stages": [], "predicted_s": 0.0}
        for k in range(1, max(1, total) + 1)
    ]
    return {"include": include}


def slim(data: Mapping[str, Any]) -> dict[str, Any]:
    """The matrix without its split plans: what a job output carries (at most 1 MB, and
    4,000 parametrized tests make a split plan of hundreds of KB), while the plan file
    keeps them."""
    include = data.get("include", [])
    return {"include": [{k: v for k, v in e.items() if k != "splits"} for e in include]}


def plan_origin(data: Mapping[str, Any]) -> ShardOrigin:
    """The identity of a plan (a matrix `matrix` made, or its file): a digest of every
    shard's label, lane, stages and split plans (not its predicted seconds), and every
    shard's entries. Two runners that planned apart from histories that differ get
    different digests."""
    include = [e for e in data.get("include", []) if isinstance(e, Mapping)]
    kept = sorted(
        (
            {key: entry.get(key) for key in ("shard", "lane", "stages", "splits")}
            for entry in include
        ),
        key=lambda entry: str(entry["shard"]),
    )
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    planned = {
        str(entry.get("shard")): tuple(str(stage) for stage in entry.get("stages") or ())
        for entry in include
    }
    return ShardOrigin(plan=hashlib.sha256(text.encode()).hexdigest()[:16], planned=planned)


def matrix(
    shards: Sequence[Shard], lane: str, splits: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The GitHub Actions matrix: {"include": [{"shard", "lane", "stages", "predicted_s"}]}.

    A shard that runs parts of a split stage (`unit[2/3]`) also carries that stage's split
    plan (`"splits": {"unit": {...}}`, from `splits`), so its runner cuts the stage as the
    planner did, whatever its own history says.
    """
    include = []
    for s in shards:
        entry: dict[str, Any] = {
            "shard": s.label,
            "lane": lane,
            "stages": list(s.stages),
            "predicted_s": s.predicted_s,
        }
        cut = sorted(
            {parse_entry(name)[0] for name in s.stages if parse_entry(name)[1] is not None}
        )
        if splits and cut:
            entry["splits"] = {name: splits[name] for name in cut if name in splits}
        include.append(entry)
    return {"include": include}


class ShardEntry(NamedTuple):
    """One shard of a plan file: its lane, its entries (stages, `unit[2/3]` parts) and the
    split plans of the stages it runs parts of (stage -> JSON data)."""

    lane: str
    stages: tuple[str, ...]
    splits: Mapping[str, Any]


def shard_in(data: object, label: str, source: str) -> ShardEntry:
    """Shard `label` of a matrix that `matrix` made, read from `source`.

    Raises UsageError naming `source` when the data is not such a matrix or lacks the
    shard.
    """
    include = data.get("include") if isinstance(data, Mapping) else None
    if not isinstance(include, list):
        raise UsageError(f'{source}: not a shard plan (no "include" list).')
    for entry in include:
        if isinstance(entry, Mapping) and entry.get("shard") == label:
            lane, stages = entry.get("lane"), entry.get("stages")
            valid = isinstance(stages, list) and all(isinstance(s, str) for s in stages)
            if not isinstance(lane, str) or not valid:
                raise UsageError(f"{source}: shard {label} needs a lane and a list of stages.")
            splits = entry.get("splits", {})
            if not isinstance(splits, Mapping):
                raise UsageError(f"{source}: shard {label}: splits must be an object.")
            return ShardEntry(lane, tuple(str(stage) for stage in stages or ()), splits)
    raise UsageError(f"{source}: no shard {label} in the plan.")
