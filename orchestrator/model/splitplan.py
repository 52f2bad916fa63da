"""Cutting one pytest stage into parts by test file, balanced by per-test history (pure).

A stage with `split = N | "auto"` runs as N pytest processes, each given its share of
the test files (DESIGN.md, "Beyond one machine: shards"). The plan assigns every test
file the history knows to a part, longest expected first onto the least loaded part (as
pytest-split and Knapsack do, but from the history every run refreshes: no durations
file goes stale). Test files stay whole, so module- and class-scoped fixtures run once;
tests the history does not know are placed when the parts run, by the pytest plugin
`engine/pytest/plugins/workflow_split.py`, at the median test's duration, from the same
plan in every part: every test collected runs in exactly one part.

Units: seconds. Part indexes in a plan are 0-based; labels ("2/3") are 1-based.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.model.partlabel import PartLabel
from orchestrator.model.stats import median

SplitSetting = int | Literal["auto"]
UNKNOWN_TEST_S = 1.0  # an unknown test's weight when history knows no test of the stage
MIN_TEST_S = 0.001


def test_file(test_id: str) -> str:
    """The file part of a pytest node id: `tests/test_a.py::TestX::test_b` -> `tests/test_a.py`."""
    return test_id.split("::", 1)[0]


@dataclass(frozen=True)
class SplitPlan:
    """Which part runs which test file, and what each part is expected to take.

    `files` maps a test file (as node ids name it, relative to pytest's rootdir) to a part
    index, and `tests` each test of a file too heavy for one part to its part; `loads_s`
    is each part's expected seconds of tests; `median_s` what a test the history does not
    know is expected to take (the plugin places those files).
    """

    parts: int
    files: Mapping[str, int]
    loads_s: tuple[float, ...]
    median_s: float
    overhead_s: float = 0.0  # what every part pays besides its tests (start-up, collection)
    tests: Mapping[str, int] = field(default_factory=dict)  # tests of files cut in pieces

    def label(self, index: int) -> str:
        """ "K/N" of part `index` (0-based)."""
        return str(PartLabel.of(index, self.parts))

    def predicted_s(self, index: int) -> float:
        """Part `index`'s expected wall time: its tests plus the overhead every part pays."""
        return round(self.loads_s[index] + self.overhead_s, 3)

    @classmethod
    def from_data(cls, data: Any) -> SplitPlan:
        """The plan `to_data` wrote; ValueError saying what is wrong with anything else."""
        if not isinstance(data, Mapping):
            raise ValueError("a split plan must be an object")
        try:
            parts = data["parts"]
            files = data["files"]
            loads = tuple(float(x) for x in data["loads_s"])
            median = float(data["median_s"])
            overhead = float(data.get("overhead_s", 0.0))
            tests = data.get("tests", {})
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a split plan: {exc}") from None
        valid_parts = isinstance(parts, int) and not isinstance(parts, bool) and parts >= 1
        if not valid_parts or len(loads) != parts or not isinstance(files, Mapping):
            raise ValueError("a split plan needs parts >= 1, one load per part and files")
        if not isinstance(tests, Mapping):
            raise ValueError("a split plan's tests must be an object")
        places = [*files.values(), *tests.values()]
        if not all(isinstance(p, int) and 0 <= p < parts for p in places):
            raise ValueError(f"every file's and test's part must be from 0 to {parts - 1}")
        return cls(
            parts,
            {str(f): int(p) for f, p in files.items()},
            loads,
            median,
            overhead,
            {str(t): int(p) for t, p in tests.items()},
        )

    def to_data(self) -> dict[str, Any]:
        """The JSON form the plugin reads (and a shard plan file carries)."""
        return {
            "parts": self.parts,
            "files": dict(sorted(self.files.items())),
            "loads_s": list(self.loads_s),
            "median_s": self.median_s,
            "overhead_s": self.overhead_s,
            "tests": dict(sorted(self.tests.items())),
        }


def part_entry(stage: str, index: int, parts: int) -> str:
    """How a shard plan names part `index` (from 0) of a split stage: `unit[2/3]`."""
    return f"{stage}[{PartLabel.of(index, parts)}]"


def parse_entry(entry: str) -> tuple[str, int | None, int | None]:
    """A shard plan's entry: `unit` -> ("unit", None, None); `unit[2/3]` -> ("unit", 1, 3)."""
    name, bracket, rest = entry.partition("[")
    if bracket and rest.endswith("]"):
        label = PartLabel.parse(rest[:-1])
        if label is not None:
            return name, label.number - 1, label.total
    return entry, None, None


def file_weights(durations: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """Seconds per test file from per-test seconds (at least `MIN_TEST_S` a test), and
    the median test's seconds."""
    weights: dict[str, float] = {}
    for test_id, seconds in durations.items():
        file = test_file(test_id)
        # At least a millisecond a test: files of instant tests still balance by count.
        weights[file] = weights.get(file, 0.0) + max(MIN_TEST_S, seconds)
    values = list(durations.values())
    # At least a millisecond: unknown files are then spread by their test counts.
    typical = max(MIN_TEST_S, median(values)) if values else UNKNOWN_TEST_S
    return weights, typical


def plan_split(
    durations: Mapping[str, float],
    parts: int,
    overhead_s: float = 0.0,
    capacities: Sequence[float] | None = None,
) -> SplitPlan:
    """`parts` parts of the tests in `durations` (node id -> seconds).

    Whole files, longest first onto the part with the most room left (the least load,
    when the parts are to be equal); a file heavier than a part's share is cut into its
    tests instead, which then go one by one (its module fixtures run once in each part
    that has some of them: the price of a balance a file could not give). Ties go to the
    lower index and equal weights are taken in name order, so the same durations always
    give the same plan. `capacities` (one per part, see `part_capacities`) sizes the
    parts unequally, in those proportions; None: equal parts.
    Raises ValueError for fewer than one part or a capacity per part missing.
    """
    if parts < 1:
        raise ValueError(f"a split needs at least one part, not {parts}")
    if capacities is not None and (len(capacities) != parts or min(capacities) <= 0):
        raise ValueError(f"a split of {parts} parts needs {parts} positive capacities")
    weights, median = file_weights(durations)
    total = sum(weights.values())
    room = [total / parts] * parts
    if capacities is not None:
        room = [total * capacity / sum(capacities) for capacity in capacities]
    share = min(room)
    units: list[tuple[float, str, bool]] = []  # (seconds, file or test id, is a test id)
    for file, weight in weights.items():
        tests = [t for t in durations if test_file(t) == file] if weight > share else []
        if parts > 1 and len(tests) > 1:
            units += [(max(MIN_TEST_S, durations[t]), t, True) for t in tests]
        else:
            units.append((weight, file, False))
    loads = [0.0] * parts
    files: dict[str, int] = {}
    tests_placed: dict[str, int] = {}
    for weight, name, is_test in sorted(units, key=lambda unit: (-unit[0], unit[1])):
        target = min(range(parts), key=lambda i: (loads[i] - room[i], i))
        (tests_placed if is_test else files)[name] = target
        loads[target] += weight
    return SplitPlan(
        parts=parts,
        files=files,
        loads_s=tuple(round(load, 4) for load in loads),
        median_s=round(median, 6),
        overhead_s=round(max(0.0, overhead_s), 4),
        tests=tests_placed,
    )


def auto_parts(stage_s: float, overhead_s: float, others_cpu_s: float, cores: int) -> int:
    """How many parts `split = "auto"` cuts a stage into on a runner with `cores` cores.

    A run cannot end before its longest piece of work, nor before all its work spread
    over the cores (the lower bound: max(longest, total / cores)). Cutting the stage into
    n parts makes its longest piece (stage_s - overhead_s) / n + overhead_s, and adds
    (n - 1) * overhead_s of work (each part starts pytest and collects again). The count
    that minimises that bound wins, but each extra part must shorten it by more than the
    overhead it adds (a split that saves less wall time than it costs in work is not
    worth its processes); never more parts than `cores`.
    `stage_s`: the stage's expected seconds; `others_cpu_s`: the CPU seconds of the
    run's other stages.
    """
    tests_s = max(0.0, stage_s - overhead_s)
    best, best_bound = 1, math.inf
    for n in range(1, max(1, cores) + 1):
        longest = tests_s / n + overhead_s
        spread = (stage_s + (n - 1) * overhead_s + others_cpu_s) / max(1, cores)
        bound = max(longest, spread)
        if bound < best_bound - max(overhead_s, 1e-9):
            best, best_bound = n, bound
    return best


def part_capacities(
    parts: int, tests_s: float, overhead_s: float, others_s: Sequence[float], cores: int
) -> tuple[float, ...] | None:
    """Seconds of tests for each part of a stage split one part per core, so that the
    cores end together: each core runs a part, then the other stages the pool gives it.

    The other stages (`others_s`: their CPU seconds) go longest first onto the core with
    the least of them (the order the pool starts them in, as parts end); every core is to
    end at (tests + overheads + others) / cores, so a core with more of the others gets a
    shorter part, which ends first and frees its core for the longest of them. None (equal
    parts) when the parts are not one per core, there are no other stages, or they alone
    would outlast a part.
    """
    if parts != cores or parts < 2 or not others_s:
        return None
    loads = [0.0] * cores
    for seconds in sorted(others_s, reverse=True):
        loads[loads.index(min(loads))] += seconds
    end = (tests_s + parts * overhead_s + sum(others_s)) / cores
    capacities = tuple(end - overhead_s - load for load in loads)
    return capacities if min(capacities) > 0 else None


def overhead_of(stage_s: float, durations: Sequence[float]) -> float:
    """What a pytest process spends besides its tests (start-up, collection): its wall
    time minus its tests' times, each counted as a plan weighs it (at least `MIN_TEST_S`,
    which stands for pytest's own work around a test), at least 0. So the overhead is what
    every part pays once, and the plan's loads already hold what grows with their tests."""
    return max(0.0, stage_s - sum(max(MIN_TEST_S, seconds) for seconds in durations))
