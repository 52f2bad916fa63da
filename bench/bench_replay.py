"""How well the replay and the findings predict a run: make each change for real and compare.

    python bench/bench_replay.py [--runs N] [--only NAME]... [--no-real] [--json PATH]

For each project (synthetic ones with sleeping and CPU-burning stages, needs, a serial
stage, 1-4 workers, one pinned to a single core; and networkx 3.4.2 from PyPI with its
pytest stage `split = "auto"` as the real one, bench/replay_real.py) the script runs
`workflow run --lane heavy` as it is, and reads the findings its record carries. Every
change is then made for real and the run measured: each stage the project names halved
(half the sleep, half the CPU seconds, half the files), and every change a finding of the
first run proposes (a stage halved, a stage without its needs, one more worker, one more
core: the run pinned to one more CPU). A prediction holds when it is within 10% (or
0.3 s) of the measured wall time.

The prediction is the recorded wall minus the replayed saving. For the real project a
stage's half is not exactly half, so its prediction replays the duration (and the parts'
ends) the halved stage actually took: the replay is what is tested, not the halving;
the finding's own figure (at exactly half) is shown beside it. Each run's record must
also agree with its replay (`pool.untimed` empty) and keep its findings unique and within
the wall time. Each case is the median-error round of N (default 3): a baseline and the
changed run back to back, their order alternating (the machine is shared; its load
drifts). Exit 1 unless every case holds, every finding a case needs is there, and every
record agrees.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.records import RunRecord, read_record, wall_time_s
from orchestrator.model.whatif import WhatIf
from sla.bottlenecks import facts
from sla.schedule import change_for

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `python bench/bench_replay.py` finds bench.replay_real

from bench.replay_cases import (  # noqa: E402 - after the path
    Case,
    finding_wall,
    findings_ok,
    label,
    stage_seconds,
    table,
)
from bench.replay_real import Stage, networkx_project  # noqa: E402 - after the path


@dataclass(frozen=True)
class Project:
    """Stages on a pool; `halve` names the stages to halve, one case each; `must_find`
    those a finding of the first run must predict; `cpus` pins the run to that many
    CPUs (one more for "one more core"); `real` plans from a history in `workdir`."""

    name: str
    stages: tuple[Stage, ...]
    workers: int
    strategy: str
    halve: tuple[str, ...] = ()
    must_find: tuple[str, ...] = ()
    cpus: int | None = None
    real: bool = False
    workdir: Path | None = None


def config_text(project: Project, change: WhatIf, reports: Path) -> str:
    where = project.workdir
    history = json.dumps(str(where / "history.db")) if where is not None else '""'
    lines = ["[workflow]", f"history = {history}", f"reports = {json.dumps(str(reports))}", ""]
    for number, stage in enumerate(project.stages, start=2):
        halved = change.stage == stage.name and not change.drop_needs
        needs = () if change.stage == stage.name and change.drop_needs else stage.needs
        lines += [
            f"[stages.{stage.name}]",
            f"number = {number}",
            f"run = {json.dumps(list(stage.command(0.5 if halved else 1.0)))}",
            f"cwd = {json.dumps(str(stage.cwd or ROOT))}",
            f"needs = {json.dumps(list(needs))}",
            f"serial = {'true' if stage.serial else 'false'}",
        ]
        lines += [f'kind = "{stage.kind}"'] if stage.kind else []
        lines += ['split = "auto"'] if stage.split else []
        lines.append("")
    lines += [
        "[lanes.heavy]",
        f'strategy = "{project.strategy}"',
        f"workers = {project.workers + change.more_workers}",
        "stage_sla = 600",
        "budget = 3600",
    ]
    return "\n".join(lines) + "\n"


def run_once(project: Project, change: WhatIf, scratch: Path) -> RunRecord:
    """One `workflow run` of `project` with `change` made for real; its record."""
    work = Path(tempfile.mkdtemp(dir=scratch))
    config = work / "workflow.toml"
    config.write_text(config_text(project, change, work / "reports"), encoding="utf-8")
    history = () if project.real else ("--no-history",)
    argv = [sys.executable, "-m", "orchestrator", "run", "--lane", "heavy", "--config",
            str(config), "--format", "json", *history]  # fmt: skip
    if project.cpus is not None:
        cpus = project.cpus + int(change.more_cores)
        argv = ["taskset", "-c", ",".join(str(i) for i in range(cpus)), *argv]
    subprocess.run(argv, cwd=work, capture_output=True, check=False, timeout=1800)
    (record_path,) = (work / "reports").glob("*/run.json")
    return read_record(record_path)


def predict(project: Project, base: RunRecord, change: WhatIf, changed: RunRecord) -> float:
    """The wall the replay of `base` predicts with `change` (a real stage's half at the
    duration and part ends it took in `changed`)."""
    replay = replay_record(base)
    took = changed.stage(change.stage) if change.stage else None
    if project.real and took is not None and not change.drop_needs:
        saving = replay.wall_s - replay.with_stage(took).wall_s
    else:
        saving = replay.saving(change)
    return wall_time_s(base) - saving


def proposed(project: Project, base: RunRecord) -> list[WhatIf]:
    """The project's own halvings, then every change a finding of `base` proposes."""
    changes = [WhatIf(stage=name, factor=0.5) for name in project.halve]
    run = facts(base)
    for finding in base.bottlenecks:
        change = change_for(run, finding) if finding.saving_s is not None else None
        if change is not None and change not in changes:
            changes.append(change)
    return changes


def _can_add_core(project: Project) -> bool:
    """Whether this machine has a core more than the project's runs are given."""
    return project.cpus is not None and project.cpus < len(os.sched_getaffinity(0))


def measure(project: Project, scratch: Path, runs: int) -> list[Case]:
    """Every case of one project: `runs` rounds, each a baseline and each changed run
    (their order alternating); the round with the median error stands for each case."""
    if project.real:
        run_once(project, WhatIf(), scratch)  # the history learns every test's duration
    first = run_once(project, WhatIf(), scratch)
    changes = proposed(project, first)
    unmade = [c for c in changes if c.more_cores and not _can_add_core(project)]
    changes = [c for c in changes if c not in unmade]
    rounds: dict[WhatIf, list[Case]] = {change: [] for change in changes}
    for number in range(runs):
        later = number % 2 == 1  # this round runs the baseline after the changes
        base = first if number == 0 else None if later else run_once(project, WhatIf(), scratch)
        order = list(reversed(changes)) if later else changes
        done = {change: run_once(project, change, scratch) for change in order}
        if base is None:
            base = run_once(project, WhatIf(), scratch)
        for change in changes:
            changed = done[change]
            rounds[change].append(
                Case(
                    project=project.name,
                    change=label(change),
                    base_s=wall_time_s(base),
                    predicted_s=predict(project, base, change, changed),
                    measured_s=wall_time_s(changed),
                    finding_s=finding_wall(base, change),
                    needs_finding=change.stage in project.must_find and not change.drop_needs,
                    notes=findings_ok(base) + findings_ok(changed),
                    stage_s=stage_seconds(base, changed, change),
                )
            )
    cases = [
        Case(
            project=project.name,
            change=label(change),
            base_s=wall_time_s(first),
            predicted_s=predict(project, first, change, first),
            measured_s=float("nan"),
            finding_s=finding_wall(first, change),
            checkable=False,
        )
        for change in unmade
    ]
    for found in rounds.values():
        found.sort(key=lambda c: c.error_s)
        middle = found[(len(found) - 1) // 2]
        middle.notes = sorted({note for c in found for note in c.notes})
        middle.findings_ok = not middle.notes
        cases.append(middle)
    return cases


def projects(real: bool, workdir: Path) -> list[Project]:
    """The synthetic projects, and networkx (split = "auto") as the real one."""
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
        # The case: halving b lets c start on its worker and d move there: -0.8 s.
        Project("two-workers", (s("a", 3.0), s("b", 2.0), s("c", 1.2), s("d", 1.0)),
                2, "process", ("b",), must_find=("b",)),
        # One core budgeted, two CPU-bound stages one after the other: one more core runs
        # them side by side.
        Project("one-core", (s("big", 1.2, declared="cpu"), s("other", 0.9, declared="cpu"),
                             s("io", 0.5)), 2, "adaptive", cpus=1),
    ]  # fmt: skip
    if real:
        stages = networkx_project(workdir / "networkx")
        found.append(
            Project("networkx", stages, 4, "adaptive", real=True, workdir=workdir / "networkx")
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 unless every case holds and every record agrees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="rounds per case (default 3)")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--workdir", type=Path, help="keep the real project here (outside any pytest config)"
    )
    options = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench_replay: {len(os.sched_getaffinity(0))} usable cores, load average {load}")
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as scratch:
        # Outside this repository: its pytest configuration must not reach networkx's tests.
        workdir = (options.workdir or Path(scratch) / "real").resolve()
        for project in projects(not options.no_real, workdir):
            if options.only and project.name not in options.only:
                continue
            found = measure(project, Path(scratch), options.runs)
            cases += found
            for line in table(found)[2:-2]:
                print(line, flush=True)
    print("\n".join(table(cases)))
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if options.json:
        rows = [asdict(c) | {"holds": c.holds} for c in cases]
        options.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    good = bool(cases) and all(c.holds and c.findings_ok for c in cases)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
