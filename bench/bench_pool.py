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
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SDIST_CACHE = BENCH_DIR / ".work" / "sdist"
PROJECT = "sqlparse"
PROJECT_VERSION = "0.6.1"
WORKLOADS = ("true", "sleep", "real")
TRUE_TARGET_S = 0.4
SLEEP_TARGET_S = 1.25
LOWER_BOUND_SLACK = 1.10
PLAIN_RUNNERS = ("sequential", "make")
_DROPPED_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHONDONTWRITEBYTECODE")


# -- what is measured ------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """One stage: the same argv and directory for every runner."""

    name: str
    argv: tuple[str, ...]
    cwd: Path


@dataclass(frozen=True)
class Workload:
    """Five stages and the directory that holds the generated files."""

    key: str
    title: str
    stages: tuple[Stage, ...]
    root: Path


@dataclass(frozen=True)
class Engine:
    """One way of starting `workflow`: the installed one, or another checkout's."""

    key: str  # "workflow" or "compare"
    label: str
    argv: tuple[str, ...]
    env: dict[str, str]
    config: str  # file name of its workflow.toml (each engine has its own reports dir)


@dataclass(frozen=True)
class Context:
    """How to start things: the plain runners' environment and the engines."""

    env: dict[str, str]
    engines: tuple[Engine, ...]
    cores: int
    runs: int


@dataclass(frozen=True)
class Sample:
    """One process measured: wall time, CPU of its whole tree (wait4), exit code."""

    wall_s: float
    cpu_s: float
    exit_code: int


@dataclass(frozen=True)
class WorkflowSample:
    """One `workflow run`, with what its run record says."""

    sample: Sample
    pool_s: float
    monitor_cpu_s: float
    stage_cpu_s: float
    stages: tuple[dict[str, Any], ...]


@dataclass
class Measurements:
    """Every sample of one workload, by runner ("sequential", "make", engine keys)."""

    runners: dict[str, list[Sample]] = field(default_factory=dict)
    workflow: dict[str, list[WorkflowSample]] = field(default_factory=dict)
    alone: dict[str, list[Sample]] = field(default_factory=dict)


# -- starting processes ------------------------------------------------------------------
def measure(argv: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> Sample:
    """Run `argv` to its end; wall time and the CPU of its whole reaped tree."""
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, process.returncode)


def plain_env() -> dict[str, str]:
    """The environment of every runner (no inherited make flags)."""
    return {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}


def engines(compare: Path | None) -> tuple[Engine, ...]:
    """The installed `workflow`, and `python -m orchestrator` from `compare` if given."""
    beside = Path(sys.executable).parent / "workflow"
    found = str(beside) if beside.is_file() else shutil.which("workflow")
    if found is None:
        raise SystemExit("bench: no `workflow` command (pip install -e . first).")
    chosen = [Engine("workflow", "workflow run", (found,), plain_env(), "workflow.toml")]
    if compare is not None:
        env = plain_env()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(compare), env.get("PYTHONPATH")) if p)
        argv = (sys.executable, "-m", "orchestrator")
        chosen.append(Engine("compare", "workflow (compare)", argv, env, "workflow-compare.toml"))
    return tuple(chosen)


def tool(name: str) -> str:
    """A tool's absolute path (the venv's first), so every runner starts the same file."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise SystemExit(f"bench: `{name}` is not installed (pip install {name}).")
    return found


# -- workloads -----------------------------------------------------------------------------
def trivial_workload(key: str, argv: tuple[str, ...], root: Path) -> Workload:
    """Five identical stages (an absolute path, so no shell runs it as a builtin)."""
    root.mkdir(parents=True, exist_ok=True)
    stages = tuple(Stage(f"s{i}", argv, root) for i in range(1, 6))
    return Workload(key, f"5 x {Path(argv[0]).name} {' '.join(argv[1:])}".strip(), stages, root)


def fetch_sdist() -> Path:
    """The project's source distribution, downloaded once into bench/.work/sdist."""
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    name = f"{PROJECT}-{PROJECT_VERSION}.tar.gz"
    if not (SDIST_CACHE / name).is_file():
        spec = f"{PROJECT}=={PROJECT_VERSION}"
        command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        subprocess.run([*command, "-q", "-d", str(SDIST_CACHE), spec], check=True)
    if not (SDIST_CACHE / name).is_file():
        raise SystemExit(f"bench: pip did not leave {name} in {SDIST_CACHE}.")
    return SDIST_CACHE / name


def real_workload(root: Path) -> Workload:
    """sqlparse's quality stages; the longest (pylint) is declared last on purpose."""
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fetch_sdist()) as archive:
        archive.extractall(root, filter="data")
    src = root / f"{PROJECT}-{PROJECT_VERSION}"
    code = ("sqlparse", "tests")
    # No cache, no foreign config; sqlparse 0.6.1 has four errors of the two disabled kinds
    # and the stage must pass (workflow learns only from stages that passed).
    mypy = (tool("mypy"), "--config-file=", "--no-incremental", "--cache-dir=/dev/null")
    mypy_codes = ("--disable-error-code=attr-defined", "--disable-error-code=assignment")
    pytest = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    stages = (
        Stage("flake8", (tool("flake8"), "--exit-zero", *code), src),
        Stage("bandit", (tool("bandit"), "-q", "--exit-zero", "-r", *code), src),
        Stage("mypy", (*mypy, *mypy_codes, *code), src),
        Stage("pytest", pytest, src),
        Stage("pylint", (tool("pylint"), "--exit-zero", "--persistent=n", *code), src),
    )
    return Workload("real", f"{PROJECT} {PROJECT_VERSION}", stages, root)


def build_workload(key: str, root: Path, ctx: Context) -> Workload:
    """The workload called `key`, its files generated under `root`."""
    if key == "true":
        workload = trivial_workload(key, (tool("true"),), root)
    elif key == "sleep":
        workload = trivial_workload(key, (tool("sleep"), "1"), root)
    else:
        workload = real_workload(root)
    write_files(workload, ctx)
    return workload


def write_files(workload: Workload, ctx: Context) -> None:
    """A workflow.toml per engine (no `kind`), a Makefile and a shell script."""
    root = workload.root
    (root / "logs").mkdir(exist_ok=True)
    toml: list[str] = []
    make = [".PHONY: all " + " ".join(s.name for s in workload.stages)]
    make.append("all: " + " ".join(s.name for s in workload.stages))
    shell = ["#!/bin/sh", "set -e"]
    for number, stage in enumerate(workload.stages, start=2):
        toml += ["", f"[stages.{stage.name}]", f"number = {number}"]
        toml += [f"cwd = {json.dumps(str(stage.cwd))}", f"run = {json.dumps(list(stage.argv))}"]
        line = f"cd {shlex.quote(str(stage.cwd))} && {shlex.join(stage.argv)}"
        make += [f"{stage.name}:", "\t" + line.replace("$", "$$")]
        shell.append(line)
    for engine in ctx.engines:
        head = [
            "# generated by bench/bench_pool.py: no `kind`; the adaptive strategy learns it",
            "[workflow]",
            'history = ""',
            f"reports = {json.dumps('reports-' + engine.key)}",
        ]
        (root / engine.config).write_text("\n".join(head + toml) + "\n", encoding="utf-8")
    (root / "Makefile").write_text("\n".join(make) + "\n", encoding="utf-8")
    (root / "sequential.sh").write_text("\n".join(shell) + "\n", encoding="utf-8")


# -- the runners ---------------------------------------------------------------------------
def plain_argv(runner: str, workload: Workload) -> tuple[str, ...]:
    """The command line of the sequential script or of make."""
    root = workload.root
    if runner == "sequential":
        return ("sh", str(root / "sequential.sh"))
    return ("make", "-s", f"-j{len(workload.stages)}", "-f", str(root / "Makefile"), "all")


def run_workflow(workload: Workload, engine: Engine) -> WorkflowSample:
    """One `workflow run`, measured, with the figures of the run record it wrote."""
    log = workload.root / "logs" / f"{engine.key}.out"
    config = str(workload.root / engine.config)
    argv = (*engine.argv, "run", "--lane", "heavy", "--config", config)
    sample = measure(argv, workload.root, engine.env, log)
    record = read_record(log, workload.root / f"reports-{engine.key}")
    pool: dict[str, Any] = record.get("pool", {})
    stages = tuple(s for s in record.get("stages", []) if isinstance(s, dict))
    return WorkflowSample(
        sample=sample,
        pool_s=float(pool.get("total_duration_s", 0.0)),
        monitor_cpu_s=float(pool.get("monitor_cpu_seconds", 0.0)),
        stage_cpu_s=sum(float(s.get("cpu_seconds", 0.0)) for s in stages),
        stages=stages,
    )


def read_record(log: Path, reports: Path) -> dict[str, Any]:
    """The run.json of the run whose output is `log` (its `reports:` line, else the newest)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    named = [line[len("reports: ") :] for line in text.splitlines() if line.startswith("reports: ")]
    path = Path(named[-1]) / "run.json" if named else None
    if path is None or not path.is_file():
        records = sorted(reports.glob("*/run.json"), key=lambda p: p.stat().st_mtime)
        if not records:
            return {}
        path = records[-1]
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def run_job(job: str, workload: Workload, ctx: Context, data: Measurements) -> None:
    """One runner once: a plain runner, an engine, or every stage alone."""
    if job in PLAIN_RUNNERS:
        log = workload.root / "logs" / f"{job}.out"
        sample = measure(plain_argv(job, workload), workload.root, ctx.env, log)
        data.runners.setdefault(job, []).append(sample)
    elif job == "alone":
        for stage in workload.stages:
            log = workload.root / "logs" / f"alone-{stage.name}.out"
            sample = measure(stage.argv, stage.cwd, ctx.env, log)
            data.alone.setdefault(stage.name, []).append(sample)
    else:
        engine = next(e for e in ctx.engines if e.key == job)
        measured = run_workflow(workload, engine)
        data.workflow.setdefault(job, []).append(measured)
        data.runners.setdefault(job, []).append(measured.sample)


def bench_workload(workload: Workload, ctx: Context) -> Measurements:
    """A warm-up run per engine, then `runs` rounds of every runner in rotating order."""
    data = Measurements()
    print(f"\n== {workload.title}: one warm-up run per engine, then {ctx.runs} rounds")
    for engine in ctx.engines:
        run_workflow(workload, engine)  # its record is what the measured runs learn from
    runners = [*PLAIN_RUNNERS, *(e.key for e in ctx.engines)]
    for round_number in range(ctx.runs):
        jobs = [*runners, "alone"]
        shift = round_number % len(jobs)
        for job in jobs[shift:] + jobs[:shift]:
            run_job(job, workload, ctx, data)
        latest = ", ".join(f"{r} {data.runners[r][-1].wall_s:.2f}s" for r in runners)
        print(f"   round {round_number + 1}/{ctx.runs}: {latest}", flush=True)
    return data


# -- figures -----------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    """The median, or nan for no values."""
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class EngineFigures:
    """What one engine's run records say, medians over its runs."""

    pool_s: float
    outside_pool_s: float
    monitor_cpu_s: float
    own_cpu_s: float


@dataclass(frozen=True)
class Summary:
    """The medians and ratios of one workload."""

    key: str
    title: str
    wall: dict[str, float]
    spread: dict[str, tuple[float, float]]
    cpu: dict[str, float]
    engines: dict[str, EngineFigures]
    alone_wall: dict[str, float]
    alone_cpu: dict[str, float]
    lower_bound_s: float
    round_bounds: tuple[float, ...]  # the lower bound from each round's own stage runs
    paired: dict[str, float]  # median over rounds of a runner's wall / that round's bound
    failures: tuple[str, ...]

    def ratio(self, engine: str, other: str) -> float:
        """An engine's median wall over another runner's (or the lower bound's)."""
        base = self.lower_bound_s if other == "bound" else self.wall[other]
        return self.wall[engine] / base if base > 0 else float("inf")

    def target(self, engine: str) -> tuple[str, bool]:
        """The workload's target and whether the engine's medians meet it."""
        wall = self.wall[engine]
        if self.key == "true":
            return f"wall < {TRUE_TARGET_S:g} s", wall < TRUE_TARGET_S
        if self.key == "sleep":
            return f"wall <= {SLEEP_TARGET_S:g} s", wall <= SLEEP_TARGET_S
        text = (
            f"faster than make -j5 and <= {LOWER_BOUND_SLACK:.2f} x the lower bound "
            "(median of the rounds' paired ratios)"
        )
        return text, wall < self.wall["make"] and self.paired[engine] <= LOWER_BOUND_SLACK


def summarize(workload: Workload, data: Measurements, cores: int) -> Summary:
    """Medians, the lower bound and the engines' own figures."""
    alone_wall = {n: median([s.wall_s for s in v]) for n, v in data.alone.items()}
    alone_cpu = {n: median([s.cpu_s for s in v]) for n, v in data.alone.items()}
    bound = max(*alone_wall.values(), sum(alone_cpu.values()) / cores)
    rounds = min(len(v) for v in data.alone.values())
    round_bounds = tuple(
        max(
            *(v[r].wall_s for v in data.alone.values()),
            sum(v[r].cpu_s for v in data.alone.values()) / cores,
        )
        for r in range(rounds)
    )
    paired = {
        runner: median([s.wall_s / b for s, b in zip(v, round_bounds, strict=False) if b > 0])
        for runner, v in data.runners.items()
    }
    return Summary(
        key=workload.key,
        title=workload.title,
        wall={r: median([s.wall_s for s in v]) for r, v in data.runners.items()},
        spread={
            r: (min(s.wall_s for s in v), max(s.wall_s for s in v)) for r, v in data.runners.items()
        },
        cpu={r: median([s.cpu_s for s in v]) for r, v in data.runners.items()},
        engines={key: engine_figures(samples) for key, samples in data.workflow.items()},
        alone_wall=alone_wall,
        alone_cpu=alone_cpu,
        lower_bound_s=bound,
        round_bounds=round_bounds,
        paired=paired,
        failures=failures(data),
    )


def engine_figures(samples: list[WorkflowSample]) -> EngineFigures:
    """Pool time, time outside the pool, the monitor's CPU and workflow's own CPU."""
    return EngineFigures(
        pool_s=median([w.pool_s for w in samples]),
        outside_pool_s=median([w.sample.wall_s - w.pool_s for w in samples]),
        monitor_cpu_s=median([w.monitor_cpu_s for w in samples]),
        own_cpu_s=median([w.sample.cpu_s - w.stage_cpu_s for w in samples]),
    )


def failures(data: Measurements) -> tuple[str, ...]:
    """Every run that did not exit 0 and every workflow stage that did not pass."""
    found = {f"{r} exited {s.exit_code}" for r, v in data.runners.items() for s in v if s.exit_code}
    found |= {
        f"{n} alone exited {s.exit_code}" for n, v in data.alone.items() for s in v if s.exit_code
    }
    found |= {
        f"{key}: stage {stage.get('name')} {stage.get('status')}"
        for key, samples in data.workflow.items()
        for sample in samples
        for stage in sample.stages
        if stage.get("status") != "passed"
    }
    return tuple(sorted(found))


# -- printing ----------------------------------------------------------------------------------
def print_workload(summary: Summary, data: Measurements, ctx: Context) -> None:
    """The per-workload tables: runners, the engines' own figures, stages and schedules."""
    labels = {"sequential": "sequential (sh)", "make": "make -j5"}
    labels |= {e.key: e.label for e in ctx.engines}
    print(f"\n{summary.title}: medians of {ctx.runs} runs, wall (min..max) and CPU of the tree")
    for runner, label in labels.items():
        low, high = summary.spread[runner]
        print(
            f"  {label:<20} {summary.wall[runner]:8.3f} s  ({low:.3f}..{high:.3f})"
            f"  cpu {summary.cpu[runner]:7.3f} s"
        )
    print(f"  {'lower bound':<20} {summary.lower_bound_s:8.3f} s  {_bound_note(summary, ctx)}")
    print_rounds(summary, data)
    for key, figures in summary.engines.items():
        print(
            f"  {labels[key]}: pool total_duration_s {figures.pool_s:.3f} s, outside the pool "
            f"{figures.outside_pool_s:.3f} s; own CPU (wait4 total - stages' cpu_seconds) "
            f"{figures.own_cpu_s:.3f} s, of which monitor {figures.monitor_cpu_s:.3f} s"
        )
    print_stages(summary, data, ctx)
    for failure in summary.failures:
        print(f"  FAILURE: {failure}")


def print_rounds(summary: Summary, data: Measurements) -> None:
    """Each round's own lower bound and every runner's wall over it.

    The machine is shared: its speed drifts by tens of percent within minutes, so a runner
    is compared with the bound measured in the same round (paired), not only with medians
    taken at other moments.
    """
    runners = list(data.runners)
    print("  each round, wall / that round's lower bound (each stage alone, same round):")
    for index, bound in enumerate(summary.round_bounds):
        cells = ", ".join(
            f"{r} {data.runners[r][index].wall_s / bound:.2f}"
            for r in runners
            if index < len(data.runners[r]) and bound > 0
        )
        print(f"    round {index + 1}: bound {bound:.3f} s; {cells}")
    medians = ", ".join(f"{r} {summary.paired[r]:.2f}" for r in runners)
    print(f"    median of the rounds' ratios: {medians}")
    for key, samples in data.workflow.items():
        print_longest(key, samples, data)


def print_longest(key: str, samples: list[WorkflowSample], data: Measurements) -> None:
    """How the engine treated each round's longest stage, which alone sets the lower bound.

    When it starts at once, ends last and takes no more CPU seconds than alone, the run can
    reach the bound; CPU seconds above its own alone means the machine ran the same work
    slower while the other cores were busy, which no schedule can avoid.
    """
    starts, tails, inflation = [], [], []
    for index, sample in enumerate(samples):
        alone = {name: runs[index] for name, runs in data.alone.items() if index < len(runs)}
        if not alone:
            continue
        longest = max(alone, key=lambda name: alone[name].wall_s)
        stage = next((s for s in sample.stages if s.get("name") == longest), None)
        if stage is None or alone[longest].cpu_s <= 0:
            continue
        start = float(stage.get("start_offset_s", 0.0))
        end = start + float(stage.get("duration_s", 0.0))
        starts.append(start)
        tails.append(sample.pool_s - end)
        inflation.append(float(stage.get("cpu_seconds", 0.0)) / alone[longest].cpu_s)
    if starts:
        print(
            f"  {key}: the longest stage started at {median(starts):.2f} s, the pool ended "
            f"{median(tails):.2f} s after it, and it took {median(inflation):.2f} x its own "
            "CPU seconds alone (medians over rounds)"
        )


def print_stages(summary: Summary, data: Measurements, ctx: Context) -> None:
    """Each stage alone, and where each engine's last run placed it (kind, start, length,
    CPU seconds, niceness)."""
    head = "  stage       alone wall   alone cpu   cpu%"
    for engine in ctx.engines:
        head += f" | {engine.key + ': kind  start   dur    cpu nice':<40}"
    print(head + "   (engines: their last run)")
    last = {
        key: {str(s.get("name")): s for s in samples[-1].stages}
        for key, samples in data.workflow.items()
        if samples
    }
    for name, wall in summary.alone_wall.items():
        cpu = summary.alone_cpu[name]
        line = f"  {name:<10} {wall:9.3f} s {cpu:9.3f} s {100 * cpu / wall if wall else 0:6.0f}"
        for engine in ctx.engines:
            record = last.get(engine.key, {}).get(name, {})
            start = float(record.get("start_offset_s", 0.0))
            length = float(record.get("duration_s", 0.0))
            line += f" | {' ' * len(engine.key)}  {record.get('kind', '?')!s:<4}"
            cpu = float(record.get("cpu_seconds", 0.0))
            line += f"{start:6.2f}s{length:6.2f}s{cpu:6.2f}s {int(record.get('nice', 0)):4d}"
        print(line)


def _bound_note(summary: Summary, ctx: Context) -> str:
    longest = max(summary.alone_wall.values())
    cpu = sum(summary.alone_cpu.values())
    return f"= max(longest alone {longest:.3f} s, cpu {cpu:.3f} s / {ctx.cores} cores)"


def print_summary(summaries: list[Summary], ctx: Context) -> None:
    """One line per workload and engine (median walls in seconds, ratios), then targets."""
    print(f"\n== summary: median wall (s) of {ctx.runs} runs on {ctx.cores} usable cores ==")
    print(
        f"{'workload':<16}{'engine':<10}{'seq':>8}{'make':>8}{'workflow':>9}{'(pool)':>8}"
        f"{'bound':>8}{'wf/make':>9}{'wf/seq':>8}{'wf/bound':>9}{'pool/bound':>11}"
        f"{'paired':>8}"
    )
    for s in summaries:
        for key, figures in s.engines.items():
            pool_ratio = figures.pool_s / s.lower_bound_s if s.lower_bound_s > 0 else float("inf")
            print(
                f"{s.title[:15]:<16}{key:<10}{s.wall['sequential']:8.3f}{s.wall['make']:8.3f}"
                f"{s.wall[key]:9.3f}{figures.pool_s:8.3f}{s.lower_bound_s:8.3f}"
                f"{s.ratio(key, 'make'):9.2f}{s.ratio(key, 'sequential'):8.2f}"
                f"{s.ratio(key, 'bound'):9.2f}{pool_ratio:11.2f}{s.paired[key]:8.2f}"
            )
    print("(paired: median over rounds of wall / the lower bound measured in the same round)")
    print("targets:")
    for s in summaries:
        for key in s.engines:
            text, met = s.target(key)
            print(f"  {s.title:<16}{key:<10}{'met    ' if met else 'NOT MET'}  {text}")
        if s.failures:
            print(f"  {s.title:<16}runs FAILED: {'; '.join(s.failures)}")


def print_startup(ctx: Context) -> dict[str, dict[str, float]]:
    """Print and return what starting each engine costs before any stage runs."""
    costs = {engine.key: startup_costs(engine, ctx.runs + 2) for engine in ctx.engines}
    print(f"\nstart-up, medians of {ctx.runs + 2} (compare with 'outside the pool'):")
    for key, walls in costs.items():
        for name, wall in walls.items():
            print(f"  {key:<10}{name:<46} {wall:.3f} s")
    return costs


def startup_costs(engine: Engine, repeats: int) -> dict[str, float]:
    """Median wall of starting Python, importing the CLI and `workflow --version`."""
    python = sys.executable
    commands = {
        "python -c pass": (python, "-c", "pass"),
        "python -c 'import orchestrator.cli'": (python, "-c", "import orchestrator.cli"),
        "python -c 'import orchestrator.commands.run'": (
            python,
            "-c",
            "import orchestrator.commands.run",
        ),
        "workflow --version": (*engine.argv, "--version"),
    }
    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="wfbench-startup-") as scratch:
        log = Path(scratch) / "out"
        for name, argv in commands.items():
            walls = [measure(argv, Path(scratch), engine.env, log).wall_s for _ in range(repeats)]
            costs[name] = median(walls)
    return costs


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
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nload average at end: {load}; the benchmark took {time.perf_counter() - started:.0f} s"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    return 1 if any(s.failures for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
