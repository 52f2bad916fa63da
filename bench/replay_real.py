"""The replay benchmark's stages: synthetic ones, and a real project from PyPI to run.

The real project is networkx 3.4.2 (bench/split_workload.py: its pinned sdist, flake8,
bandit, mypy and pylint on parts of the package, its test suite as the pytest stage),
with `split = "auto"` on pytest, as `bench_split.py` runs it. Each stage also has a half:
about half its files, so a finding that proposes halving it can be tried for real.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.runners import plain_env
from bench.split_workload import SPLIT_STAGE, split_workload, warm_pytest


@dataclass(frozen=True)
class Stage:
    """A synthetic stage (`seconds` of sleep, or of CPU with `burn`) or a command (`argv`,
    with `halved` its half); `split` runs it as parts (`split = "auto"`). A sleep declared
    `kind = "cpu"` spends the core budget without competing for a core: the admission's
    arithmetic, measured apart from what the machine's other load does to CPU time."""

    name: str
    seconds: float = 0.0
    burn: bool = False
    needs: tuple[str, ...] = ()
    serial: bool = False
    argv: tuple[str, ...] = ()
    halved: tuple[str, ...] = ()
    cwd: Path | None = None
    split: bool = False
    declared: str | None = None  # a kind to declare instead of the one its work has

    @property
    def kind(self) -> str | None:
        """Declared for a synthetic stage; a real one's is learned from history."""
        if self.declared or self.argv:
            return self.declared
        return "cpu" if self.burn else "io"

    def command(self, factor: float) -> tuple[str, ...]:
        """The argv at `factor` of its work (1.0 or 0.5)."""
        if self.argv:
            return self.halved if factor < 1 else self.argv
        amount = round(self.seconds * factor, 3)
        if self.burn:
            code = f"import time\nwhile time.process_time() < {amount}: pass"
        else:
            code = f"import time; time.sleep({amount})"
        return (sys.executable, "-c", code)


# About half of each stage's files (their halves' real durations are measured, not assumed).
_HALVES = {
    "flake8": ("networkx/generators",),
    "bandit": ("networkx/classes", "networkx/generators"),
    "mypy": ("networkx/classes", "networkx/generators", "networkx/utils"),
    "pylint": ("networkx/linalg/graphmatrix.py", "networkx/linalg/laplacianmatrix.py"),
    SPLIT_STAGE: (
        "networkx/classes",
        "networkx/algorithms/connectivity",
        "networkx/algorithms/flow",
        "networkx/readwrite",
    ),
}


def networkx_project(root: Path) -> tuple[Stage, ...]:
    """networkx's stages, unpacked into `root` (once) and its tests collected once."""
    workload = split_workload(root)
    warm_pytest(workload, plain_env())
    return tuple(
        Stage(
            stage.name,
            argv=stage.argv,
            halved=(*(a for a in stage.argv if not a.startswith("networkx")), *_HALVES[stage.name]),
            cwd=stage.cwd,
            split=stage.name == SPLIT_STAGE,
        )
        for stage in workload.stages
    )
