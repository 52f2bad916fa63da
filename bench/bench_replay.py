"""How well the replay predicts a run: halve a stage for real and compare.

    python bench/bench_replay.py [--runs N] [--only NAME]... [--no-real] [--json PATH]

For each project (synthetic ones with sleeping and CPU-burning stages, needs, a serial
stage, 1-4 workers; and this repository's own ruff, bandit and pytest stages as the real
one) the script runs `workflow run --lane heavy` once as it is, replays that run's record
with the pool's admission policy, and predicts the wall time with one stage at half its
duration (recorded wall minus the replayed saving). Then it halves that stage for real
(half the sleep, half the CPU seconds, half the test files) and runs again. A prediction
holds when it is within 10% (or 0.3 s) of the measured wall. For the real project a
stage's halved duration is not exactly half, so the prediction uses the duration the
halved stage actually took (the replay is what is tested, not the halving).

Each run also checks the findings: no two share a stage and a cause, and their savings
together stay within the wall time. Runs use fresh report directories and no history, so
the baseline and the halved run are planned alike. Each case is the
round of N (default 3), each a baseline and a halved run back to back, whose error is the
median (the machine is shared: its load drifts between runs).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from orchestrator.engine.replay import replay_record
from orchestrator.model.records import RunRecord, read_record
from orchestrator.model.whatif import WhatIf

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 0.10
TOLERANCE_S = 0.3


@dataclass(frozen=True)
class Stage:
    """A synthetic stage: `sleep` seconds of waiting or `burn` CPU seconds, or a command."""

    name: str
    seconds: float = 0.0
    burn: bool = False
    needs: tuple[str, ...] = ()
    serial: bool = False
    argv: tuple[str, ...] = ()  # a real command (then `halved` gives the half)
    halved: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Project:
    """Stages on a pool; `halve` names the stages to halve, one case each."""

    name: str
    stages: tuple[Stage, ...]
    workers: int
    strategy: str
    halve: tuple[str, ...]
    real: bool = False


def _toml(project: Project, halved: str | None, reports: Path) -> str:
    lines = ["[workflow]", 'history = ""', f"reports = {json.dumps(str(reports))}", ""]
    for number, stage in enumerate(project.stages, start=2):
        argv = stage.command(0.5 if stage.name == halved else 1.0)
        kind = "cpu" if stage.burn or stage.argv else "io"
        lines += [
            f"[stages.{stage.name}]",
            f"number = {number}",
            f"run = {json.dumps(list(argv))}",
            f'kind = "{kind}"',
            f"cwd = {json.dumps(str(ROOT))}",
            f"needs = {json.dumps(list(stage.needs))}",
            f"serial = {'true' if stage.serial else 'false'}",
            "",
        ]
    lines += [
        "[lanes.heavy]",
        f'strategy = "{project.strategy}"',
        f"workers = {project.workers}",
        "stage_sla = 600",
        "budget = 3600",
    ]
    return "\n".join(lines) + "\n"


def run_once(project: Project, halved: str | None, scratch: Path) -> RunRecord:
    """One `workflow run` of `project` (with `halved` at half its work); its record."""
    work = Path(tempfile.mkdtemp(dir=scratch))
    config = work / "workflow.toml"
    config.write_text(_toml(project, halved, work / "reports"), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--lane", "heavy", "--config",
         str(config), "--format", "json", "--no-history"],
        cwd=work, capture_output=True, check=False, timeout=600,
    )  # fmt: skip
    (record_path,) = (work / "reports").glob("*/run.json")
    return read_record(record_path)


@dataclass
class Case:
    """One stage halved: the prediction, the measurement, whether they agree."""

    project: str
    stage: str
    base_s: float
    predicted_s: float
    measured_s: float
    findings_ok: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def error_s(self) -> float:
        """Predicted minus measured, seconds."""
        return self.predicted_s - self.measured_s

    @property
    def holds(self) -> bool:
        """Within 10% of the measured wall, or 0.3 s."""
        return abs(self.error_s) <= max(TOLERANCE * self.measured_s, TOLERANCE_S)


def findings_ok(record: RunRecord) -> bool:
    """No two findings share a stage and a cause; their savings stay within the wall."""
    keys = [(b.stage, b.kind) for b in record.bottlenecks]
    claimed = sum(b.saving_s or 0.0 for b in record.bottlenecks)
    return len(keys) == len(set(keys)) and claimed <= record.pool.total_duration_s + 1e-6


def predict(base: RunRecord, stage: str, halved: RunRecord | None) -> float:
    """The wall predicted for `stage` halved (at its measured new duration for real stages)."""
    replay = replay_record(base)
    if halved is None:
        saving = replay.saving(WhatIf(stage=stage, factor=0.5))
    else:
        took = halved.stage(stage)
        duration = took.duration_s if took is not None else 0.0
        saving = replay.wall_s - replay.with_durations({stage: duration}).wall_s
    return base.pool.total_duration_s - saving


def measure(project: Project, scratch: Path, runs: int) -> list[Case]:
    """Every case of one project: `runs` rounds of a baseline and the halved run, back to
    back (their order alternating), so both meet the same background load; the round with
    the median error stands for the case."""
    cases = []
    for name in project.halve:
        rounds = []
        for round_number in range(runs):
            order = [None, name] if round_number % 2 == 0 else [name, None]
            done = {which: run_once(project, which, scratch) for which in order}
            base, halved = done[None], done[name]
            rounds.append(
                Case(
                    project=project.name,
                    stage=name,
                    base_s=base.pool.total_duration_s,
                    predicted_s=predict(base, name, halved if project.real else None),
                    measured_s=halved.pool.total_duration_s,
                    findings_ok=findings_ok(base) and findings_ok(halved),
                )
            )
        rounds.sort(key=lambda c: c.error_s)
        middle = rounds[(len(rounds) - 1) // 2]
        middle.findings_ok = all(c.findings_ok for c in rounds)
        cases.append(middle)
    return cases


def projects(real: bool) -> list[Project]:
    """The synthetic projects, and this repository's own stages as the real one."""
    s = Stage
    found = [
        Project("chain", (s("lint", 0.4), s("unit", 1.6, needs=("lint",)), s("types", 1.0),
                          s("docs", 0.3)), 2, "process", ("unit", "types", "lint")),
        Project("one-worker", (s("a", 0.6), s("b", 1.2), s("c", 0.8)), 1, "thread", ("b", "c")),
        Project("serial", (s("fmt", 0.8, serial=True), s("x", 1.2), s("y", 1.0), s("z", 0.5)),
                3, "process", ("fmt", "x")),
        Project("cpu", (s("crunch", 1.2, burn=True), s("small", 0.5, burn=True),
                        s("wait", 1.0)), 2, "adaptive", ("crunch", "wait")),
        Project("four", (s("p", 1.5), s("q", 1.0), s("r", 0.8), s("t", 0.6),
                         s("u", 0.7, needs=("p",))), 4, "process", ("p",)),
    ]  # fmt: skip
    if real:
        tests = sorted(
            str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "unit").glob("test_*.py")
        )
        unit = tests[:8]  # a few seconds of real tests; the halved stage runs the first 4
        py = sys.executable
        found.append(
            Project(
                "this repo",
                (
                    s("lint", argv=(py, "-m", "ruff", "check", "--no-cache", "."),
                      halved=(py, "-m", "ruff", "check", "--no-cache", "orchestrator")),
                    s("security", argv=(py, "-m", "bandit", "-q", "-r", "orchestrator", "sla"),
                      halved=(py, "-m", "bandit", "-q", "-r", "sla")),
                    s("unit", argv=(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *unit),
                      halved=(py, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              *unit[: len(unit) // 2])),
                ),
                2, "adaptive", ("unit", "security"), real=True,
            )
        )  # fmt: skip
    return found


def table(cases: Sequence[Case]) -> list[str]:
    """The cases as a markdown table, and the count that held."""
    lines = [
        "| project | halved | wall before | predicted | measured | error | holds | findings |",
        "|---|---|--:|--:|--:|--:|---|---|",
    ]
    for c in cases:
        lines.append(
            f"| {c.project} | {c.stage} | {c.base_s:.2f}s | {c.predicted_s:.2f}s | "
            f"{c.measured_s:.2f}s | {c.error_s:+.2f}s | {'yes' if c.holds else 'NO'} | "
            f"{'ok' if c.findings_ok else 'BAD'} |"
        )
    held = sum(c.holds for c in cases)
    lines.append("")
    lines.append(f"{held} of {len(cases)} predictions within 10% (or 0.3 s) of the measured wall.")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 when fewer than 9 in 10 predictions hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="rounds per case (default 3)")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    chosen = [
        p for p in projects(not options.no_real) if not options.only or p.name in options.only
    ]
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as scratch:
        for project in chosen:
            found = measure(project, Path(scratch), options.runs)
            cases += found
            for line in table(found)[2:-2]:
                print(line, flush=True)
    print("\n".join(table(cases)))
    if options.json:
        rows = [replace(c).__dict__ | {"holds": c.holds} for c in cases]
        options.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    held = sum(c.holds for c in cases)
    return 0 if cases and held >= 0.9 * len(cases) and all(c.findings_ok for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
