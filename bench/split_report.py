"""The split benchmark's figures and their printing: medians, bounds, targets, the plans.

Units: seconds throughout; ratios are plain numbers. Rounds line up by index: round r
is the r-th sample of every runner (each round runs every runner once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.model import LOWER_BOUND_SLACK, Measurements, median, runner_row

RUNNERS = {
    "workflow": 'workflow run (split = "auto")',
    "make": "make -j5",
    "sequential": "sequential",
}


@dataclass(frozen=True)
class SplitFigures:
    """Medians over the rounds and the two targets' terms.

    `longest_alone_s`: the longest stage's wall time alone (measured in each round's
    sequential run); `cpu_bound_s`: all stages' CPU seconds alone over the cores (the
    work unsplit); `split_cpu_bound_s`: the split run's own stages' CPU seconds over the
    cores (its parts' extra start-up and collection included); `paired_*`: the median
    over rounds of the workflow run's wall over that same round's term.
    """

    wall: dict[str, float]
    spread: dict[str, tuple[float, float]]
    cpu: dict[str, float]
    longest_stage: str
    longest_alone_s: float
    cpu_bound_s: float
    split_cpu_bound_s: float
    paired_longest: float
    paired_cpu: float
    parts: tuple[int, ...]
    failures: tuple[str, ...]

    def targets(self) -> list[tuple[str, bool]]:
        """The issue's two targets on medians: text and whether each holds."""
        wall = self.wall["workflow"]
        longest = (
            f"wall {wall:.3f} s < {self.longest_stage} alone {self.longest_alone_s:.3f} s "
            f"({wall / self.longest_alone_s:.2f} x; paired {self.paired_longest:.2f} x)"
        )
        limit = LOWER_BOUND_SLACK * self.cpu_bound_s
        spread = (
            f"wall {wall:.3f} s <= {LOWER_BOUND_SLACK:.2f} x CPU/cores {self.cpu_bound_s:.3f} s "
            f"= {limit:.3f} s ({wall / self.cpu_bound_s:.2f} x; paired {self.paired_cpu:.2f} x)"
        )
        return [(longest, wall < self.longest_alone_s), (spread, wall <= limit)]


def figures(data: Measurements, cores: int) -> SplitFigures:
    """The medians, bounds and paired ratios of `data` on `cores` cores."""
    alone_wall = {name: median([s.wall_s for s in v]) for name, v in data.alone.items()}
    longest = max(alone_wall, key=lambda name: alone_wall[name])
    rounds = min(len(v) for v in data.alone.values())
    round_cpu = [sum(v[r].cpu_s for v in data.alone.values()) / cores for r in range(rounds)]
    round_longest = [data.alone[longest][r].wall_s for r in range(rounds)]
    walls = [s.wall_s for s in data.runners["workflow"]]
    split_cpu = [w.stage_cpu_s / cores for w in data.workflow["workflow"]]
    return SplitFigures(
        wall={r: median([s.wall_s for s in v]) for r, v in data.runners.items()},
        spread={
            r: (min(s.wall_s for s in v), max(s.wall_s for s in v)) for r, v in data.runners.items()
        },
        cpu={r: median([s.cpu_s for s in v]) for r, v in data.runners.items()},
        longest_stage=longest,
        longest_alone_s=alone_wall[longest],
        cpu_bound_s=median(round_cpu),
        split_cpu_bound_s=median(split_cpu),
        paired_longest=median([w / b for w, b in zip(walls, round_longest, strict=False)]),
        paired_cpu=median([w / b for w, b in zip(walls, round_cpu, strict=False)]),
        parts=tuple(len(split_parts(w.stages)) for w in data.workflow["workflow"]),
        failures=_failures(data),
    )


def split_parts(stages: tuple[dict[str, Any], ...], name: str = "pytest") -> list[dict[str, Any]]:
    """The parts of stage `name` in a run record's stages ([] when it ran whole)."""
    stage = next((s for s in stages if s.get("name") == name), {})
    parts = stage.get("parts") or []
    return [p for p in parts if isinstance(p, dict)]


def _failures(data: Measurements) -> tuple[str, ...]:
    found = {f"{r} exited {s.exit_code}" for r, v in data.runners.items() for s in v if s.exit_code}
    found |= {
        f"workflow: stage {stage.get('name')} {stage.get('status')}"
        for sample in data.workflow.get("workflow", [])
        for stage in sample.stages
        if stage.get("status") != "passed"
    }
    return tuple(sorted(found))


# -- printing ----------------------------------------------------------------------------------
def print_figures(title: str, fig: SplitFigures, data: Measurements, cores: int) -> None:
    """The runners' medians, the bounds, each round, each run's split plan and the targets."""
    rounds = len(data.runners["workflow"])
    print(f"\n{title}: medians of {rounds} rounds on {cores} usable cores, wall (min..max), CPU")
    for key, label in RUNNERS.items():
        print(runner_row(label, 30, fig.wall[key], fig.spread[key], fig.cpu[key]))
    print(f"  {fig.longest_stage + ' alone (whole)':<30} {fig.longest_alone_s:8.3f} s")
    print(f"  {'CPU / cores (lower bound)':<30} {fig.cpu_bound_s:8.3f} s  (stages alone)")
    print(f"  {'split run CPU / cores':<30} {fig.split_cpu_bound_s:8.3f} s  (its records)")
    print("  each round: walls, the longest stage alone, CPU / cores, workflow over each")
    for r in range(rounds):
        walls = {key: data.runners[key][r].wall_s for key in RUNNERS}
        alone = data.alone[fig.longest_stage][r].wall_s
        bound = sum(v[r].cpu_s for v in data.alone.values()) / cores
        cells = ", ".join(f"{key} {wall:.3f}" for key, wall in walls.items())
        wf = walls["workflow"]
        print(
            f"    round {r + 1}: {cells}; alone {alone:.3f}, CPU/cores {bound:.3f}; "
            f"workflow/alone {wf / alone:.2f}, workflow/bound {wf / bound:.2f}"
        )
    print_plans(data)
    print("targets (medians):")
    for text, met in fig.targets():
        print(f"  {'met    ' if met else 'NOT MET'}  {text}")
    for failure in fig.failures:
        print(f"  FAILURE: {failure}")


def print_plans(data: Measurements) -> None:
    """Each measured run's split (parts, tests, predicted and measured seconds) and where
    the pool placed every stage (start, duration, CPU, niceness)."""
    for index, sample in enumerate(data.workflow.get("workflow", []), start=1):
        parts = split_parts(sample.stages)
        print(f"  run {index}: pytest in {len(parts) or 1} part(s); pool {sample.pool_s:.3f} s")
        for part in parts:
            print(
                f"    part {part.get('part')}: {part.get('tests')} tests, predicted "
                f"{float(part.get('predicted_s') or 0.0):7.3f} s, measured "
                f"{float(part.get('duration_s', 0.0)):7.3f} s (cpu "
                f"{float(part.get('cpu_seconds', 0.0)):.3f} s, start "
                f"{float(part.get('start_offset_s', 0.0)):.2f} s)"
            )
        cells = ", ".join(
            f"{s.get('name')} {float(s.get('start_offset_s', 0.0)):.1f}"
            f"+{float(s.get('duration_s', 0.0)):.1f}s"
            f"{' nice ' + str(s.get('nice')) if s.get('nice') else ''}"
            for s in sorted(sample.stages, key=lambda s: float(s.get("start_offset_s", 0.0)))
        )
        print(f"    schedule (start+duration): {cells}")
