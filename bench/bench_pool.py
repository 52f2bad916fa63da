"""Benchmark `workflow run` against a sequential shell run, `make -j`, and the lower bound.

    python bench/bench_pool.py [--runs N] [--quick] [--only true|sleep|real] [--keep]
                               [--workdir DIR] [--compare DIR] [--json PATH]

Three workloads of five stages each:

- ``true``: five stages of ``true``: what orchestrating costs (target: under 0.4 s wall
  for the whole ``workflow run``, process start included);
- ``sleep``: five stages of ``sleep 1``: ideal parallelism (target: within 1.25 s);
- ``real``: the quality stages of a project that is not ours (sqlparse, a pinned source
  distribution from PyPI): flake8, bandit, mypy, pytest and pylint, each taking real CPU
  time (target: faster than ``make -j5`` and within 10% of the lower bound).

Each workload runs, with the same commands: (a) a generated shell script, one stage after
another; (b) ``make -j5`` of a generated Makefile (one phony target per stage); (c)
``workflow run --lane heavy`` on a generated workflow.toml that declares no ``kind``, so
the adaptive strategy has to learn each stage's duration and CPU use from the records of
earlier runs: one warm-up run comes first and the reports directory is kept between runs;
(d) the lower bound max(longest stage alone, CPU seconds of all stages / usable cores),
from each stage measured alone, in every round. Figures are medians (the machine is
shared, so noisy), and the runners' order rotates from one round to the next so that
drifting background load does not always fall on the same runner. Because the machine's
speed drifts by tens of percent within minutes, the target against the lower bound is
judged on paired ratios: each round's wall over the bound measured in that same round,
then the median of those ratios.

Wall and CPU of every process come from ``os.wait4`` (the kernel's account of the process
and every descendant it reaped). For ``workflow run`` the script also reads the run
record: the pool's own ``total_duration_s``, the monitor's CPU and the stages'
``cpu_seconds``; workflow's own CPU is the wait4 total minus the stages' CPU.

``--compare DIR`` adds a fourth runner, ``python -m orchestrator`` from another checkout
(PYTHONPATH=DIR, its own reports directory and warm-up), in the same rounds: an engine
change measured on a scratch copy under the same background load as the original.

Scratch files go to a temporary directory outside any project (so that no tool picks up
a foreign configuration, and no linter of this repository sees sqlparse's sources); the
downloaded source distribution is kept in bench/.work/sdist.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.model import WORKLOADS, Context, Summary, end_note, summarize
from bench.printing import print_startup, print_summary, print_workload
from bench.runners import bench_workload, build_workload, engines, plain_env


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per runner (5)")
    parser.add_argument("--quick", action="store_true", help="3 runs per runner")
    parser.add_argument("--only", action="append", choices=WORKLOADS, help="this workload only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument(
        "--compare", type=Path, help="also run `python -m orchestrator` from this checkout"
    )
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.compare is not None and not (args.compare / "orchestrator").is_dir():
        parser.error(f"--compare: no orchestrator package in {args.compare}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 when a stage failed in some runner (the figures are suspect)."""
    args = parse_args(argv)
    compare = args.compare.resolve() if args.compare else None
    cores = len(os.sched_getaffinity(0))
    ctx = Context(plain_env(), engines(compare), cores, args.runs)
    scratch = args.workdir or Path(tempfile.mkdtemp(prefix="wfbench-"))
    started = time.perf_counter()
    print(f"bench_pool: {cores} usable cores, {args.runs} runs per runner, scratch {scratch}")
    for engine in ctx.engines:
        where = f" with PYTHONPATH={compare}" if engine.key == "compare" else ""
        print(f"  {engine.key}: {shlex.join(engine.argv)}{where}")
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("  the generated workflow.toml declares no `kind` and turns history off; each engine")
    print("  has one warm-up run per workload (not counted) and keeps its reports dir between")
    print("  runs, so the adaptive strategy learns from the previous runs' records")
    summaries: list[Summary] = []
    raw: dict[str, Any] = {}
    try:
        for key in args.only or WORKLOADS:
            workload = build_workload(key, scratch / key, ctx)
            data = bench_workload(workload, ctx)
            summary = summarize(workload, data, cores)
            summaries.append(summary)
            raw[key] = {"summary": dataclasses.asdict(summary), "samples": dataclasses.asdict(data)}
            print_workload(summary, data, ctx)
        raw["startup"] = print_startup(ctx)
        print_summary(summaries, ctx)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(end_note(started))
    if args.json is not None:
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    return 1 if any(s.failures for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
