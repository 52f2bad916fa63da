"""Starting the runners: processes measured with wait4, generated workloads, workflow runs."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.model import (
    _DROPPED_ENV,
    PLAIN_RUNNERS,
    PROJECT,
    PROJECT_VERSION,
    SDIST_CACHE,
    Context,
    Engine,
    Measurements,
    Sample,
    Stage,
    WorkflowSample,
    Workload,
)


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


def fetch_sdist(project: str = PROJECT, version: str = PROJECT_VERSION) -> Path:
    """A project's source distribution (sqlparse's by default), downloaded once into
    bench/.work/sdist; SystemExit when pip leaves no `{project}-{version}.tar.gz` there."""
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    name = f"{project}-{version}.tar.gz"
    if not (SDIST_CACHE / name).is_file():
        spec = f"{project}=={version}"
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
    # -p no:randomly: the workload as measured before pytest-randomly joined the dev extra.
    pytest = (
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "tests",
    )
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
    write_plain(workload)
    toml: list[str] = []
    for number, stage in enumerate(workload.stages, start=2):
        toml += ["", f"[stages.{stage.name}]", f"number = {number}"]
        toml += [f"cwd = {json.dumps(str(stage.cwd))}", f"run = {json.dumps(list(stage.argv))}"]
    for engine in ctx.engines:
        head = [
            "# generated by bench/bench_pool.py: no `kind`; the adaptive strategy learns it",
            "[workflow]",
            'history = ""',
            f"reports = {json.dumps('reports-' + engine.key)}",
        ]
        text = "\n".join(head + toml) + "\n"
        (workload.root / engine.config).write_text(text, encoding="utf-8")


def write_plain(workload: Workload) -> None:
    """The plain runners' files in the workload's root: a Makefile with one phony target
    per stage (`make -jN all`), a shell script running the stages one after another, and
    the `logs` directory every runner's output goes to."""
    root = workload.root
    (root / "logs").mkdir(exist_ok=True)
    make = [".PHONY: all " + " ".join(s.name for s in workload.stages)]
    make.append("all: " + " ".join(s.name for s in workload.stages))
    shell = ["#!/bin/sh", "set -e"]
    for stage in workload.stages:
        line = f"cd {shlex.quote(str(stage.cwd))} && {shlex.join(stage.argv)}"
        make += [f"{stage.name}:", "\t" + line.replace("$", "$$")]
        shell.append(line)
    (root / "Makefile").write_text("\n".join(make) + "\n", encoding="utf-8")
    (root / "sequential.sh").write_text("\n".join(shell) + "\n", encoding="utf-8")


# -- the runners ---------------------------------------------------------------------------
def plain_argv(runner: str, workload: Workload) -> tuple[str, ...]:
    """The command line of the sequential script or of make."""
    root = workload.root
    if runner == "sequential":
        return ("sh", str(root / "sequential.sh"))
    return ("make", "-s", f"-j{len(workload.stages)}", "-f", str(root / "Makefile"), "all")


def run_workflow(workload: Workload, engine: Engine, extra: tuple[str, ...] = ()) -> WorkflowSample:
    """One `workflow run --lane heavy` (plus `extra` options), measured, with the figures
    of the run record it wrote into `reports-<engine key>`."""
    log = workload.root / "logs" / f"{engine.key}.out"
    config = str(workload.root / engine.config)
    argv = (*engine.argv, "run", "--lane", "heavy", *extra, "--config", config)
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
