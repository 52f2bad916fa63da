"""Benchmark `split = "auto"`: one runner ends a lane before its longest stage would alone.

    python bench/bench_split.py [--runs N] [--keep] [--workdir DIR] [--json PATH]

The workload (bench/split_workload.py) is a real project from PyPI whose longest stage is
its pytest stage: networkx 3.4.2, its pinned sdist cached in bench/.work/sdist, with flake8,
bandit, mypy and pylint beside pytest (needs `pip install flake8 pylint`). The generated
workflow.toml declares no `kind`, keeps a history and sets `split = "auto"` on pytest.

1. One collection of the tests (pytest caches its rewritten test modules, a one-time cost
   no runner should pay), then one warm-up `workflow run --lane heavy --no-cache`: pytest
   runs whole, and the history records every test's duration.
2. `--runs` rounds (3), the runners' order rotating from one round to the next:
   `workflow run --lane heavy --no-cache` (split auto: the plan cuts pytest into parts
   from the per-test history, every run adds to it), `make -j5` of the same five stages,
   and a sequential run (each stage alone, one after another, each measured).
3. Medians of each runner's wall and CPU (os.wait4: the whole reaped tree); the longest
   stage alone (pytest whole, from the sequential runs); the lower bound, all stages'
   CPU seconds alone over the usable cores; the split run's own CPU seconds (its record's
   `cpu_seconds`, the parts' extra start-up and collection included) over the cores;
   every run's split plan (parts, tests, predicted and measured seconds) and schedule.

Targets (issue "Beyond one runner"), on medians, paired ratios beside them (each round's
wall over the term measured in that same round, as the machine's speed drifts):
the workflow run's wall < the longest stage alone, and <= 1.10 x CPU seconds / cores.
Exit status 1 when a run or a stage failed (the figures are then suspect), else 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.model import Measurements, Sample, Workload, end_note
from bench.runners import engines, measure, plain_argv, plain_env, run_workflow
from bench.split_report import figures, print_figures, split_parts
from bench.split_workload import split_workload, warm_pytest, write_split_files

WORKFLOW_OPTIONS = ("--no-cache",)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; an error names the option at fault (exit 2)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (3)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def sequential(workload: Workload, env: dict[str, str], data: Measurements) -> None:
    """Every stage alone, one after another: each stage's sample, and their sum as the
    sequential runner's (the exit code of the first stage that failed, else 0)."""
    samples = []
    for stage in workload.stages:
        log = workload.root / "logs" / f"alone-{stage.name}.out"
        sample = measure(stage.argv, stage.cwd, env, log)
        data.alone.setdefault(stage.name, []).append(sample)
        samples.append(sample)
    total = Sample(
        sum(s.wall_s for s in samples),
        sum(s.cpu_s for s in samples),
        next((s.exit_code for s in samples if s.exit_code), 0),
    )
    data.runners.setdefault("sequential", []).append(total)


def notes(workload: Workload) -> list[str]:
    """The `note:` lines of the last workflow run's output (how the plan treated split)."""
    log = workload.root / "logs" / "workflow.out"
    text = log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.startswith("note:")]


def bench(workload: Workload, runs: int) -> tuple[Measurements, dict[str, Any]]:
    """The warm-up, then `runs` rotating rounds; the samples and what the warm-up showed."""
    env = plain_env()
    engine = engines(None)[0]
    data = Measurements()
    warm_pytest(workload, env)
    warm = run_workflow(workload, engine, WORKFLOW_OPTIONS)
    whole = next((s for s in warm.stages if s.get("name") == "pytest"), {})
    warmup = {"wall_s": warm.sample.wall_s, "pool_s": warm.pool_s, "pytest": whole}
    whole_s, whole_cpu = float(whole.get("duration_s", 0)), float(whole.get("cpu_seconds", 0))
    print(
        f"  warm-up: {warm.sample.wall_s:.3f} s; pytest whole {whole_s:.3f} s "
        f"(cpu {whole_cpu:.3f} s); {'; '.join(notes(workload))}"
    )
    jobs = ["workflow", "make", "sequential"]
    run_notes: list[list[str]] = []
    for number in range(runs):
        shift = number % len(jobs)
        for job in jobs[shift:] + jobs[:shift]:
            if job == "workflow":
                measured = run_workflow(workload, engine, WORKFLOW_OPTIONS)
                data.workflow.setdefault(job, []).append(measured)
                data.runners.setdefault(job, []).append(measured.sample)
                run_notes.append(notes(workload))
            elif job == "make":
                log = workload.root / "logs" / "make.out"
                sample = measure(plain_argv("make", workload), workload.root, env, log)
                data.runners.setdefault(job, []).append(sample)
            else:
                sequential(workload, env, data)
        latest = ", ".join(f"{job} {data.runners[job][-1].wall_s:.2f}s" for job in jobs)
        parts = len(split_parts(data.workflow["workflow"][-1].stages)) or 1
        load = os.getloadavg()[0]
        print(
            f"  round {number + 1}/{runs}: {latest} (pytest in {parts} parts; load {load:.2f})",
            flush=True,
        )
    return data, {"warmup": warmup, "notes": run_notes}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 when a run or a stage failed, else 0."""
    args = parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    scratch = args.workdir or Path(tempfile.mkdtemp(prefix="wfbench-split-"))
    started = time.perf_counter()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench_split: {cores} usable cores, {args.runs} rounds, load average {load}")
    try:
        workload = split_workload(scratch / "split")
        write_split_files(workload)
        print(f"== {workload.title}: stages {', '.join(s.name for s in workload.stages)}")
        data, extra = bench(workload, args.runs)
        fig = figures(data, cores)
        print_figures(workload.title, fig, data, cores)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(end_note(started))
    if args.json is not None:
        raw = {"figures": dataclasses.asdict(fig), "samples": dataclasses.asdict(data), **extra}
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    return 1 if fig.failures else 0


if __name__ == "__main__":
    sys.exit(main())
