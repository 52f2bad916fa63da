"""Benchmark the result cache: a repeat run on an unchanged tree, and the lookup's cost.

    python bench/bench_cache.py [--runs N] [--files N]

1. A project that is not ours (sqlparse, the pinned source distribution bench_pool.py
   uses) in a fresh git repository, with its five quality stages (flake8, bandit, mypy,
   pytest, pylint). `workflow run --lane heavy` runs once to fill the cache, then N more
   times on the unchanged tree; each repeat's wall time (process start included, from
   os.wait4) is compared with `make -j5` of the same stages. Targets: a repeat at most
   5% of make's time, and at most 1.0 s.
2. The lookup alone: the key of one stage with default inputs in a generated repository
   of `--files` files (2,000 by default) whose directory has three directories above it
   holding configuration (the top, `services/`, `services/api/`), clean and with 50 files
   edited, through the library as a run computes it (git's index and status, hashing the
   dirty files, the configuration above, the tool and every Python environment on the
   PATH). Measured twice: the first key of a fresh process (what every `workflow run`
   pays; the environments' digests remembered in the cache directory), and repeated
   keys within one process. Target: under 60 ms.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.model import Workload
from bench.runners import measure, plain_argv, plain_env, real_workload
from orchestrator.cache.key import StageIdentity
from orchestrator.model.config import StageConfig
from orchestrator.pipeline.cachekeys import current_keys

RATIO_TARGET = 0.05
REPEAT_TARGET_S = 1.0
LOOKUP_TARGET_S = 0.060
APP = Path("services/api/app")  # the stage's directory: three configured ones above it
CONFIGS = {
    "pyproject.toml": "[tool.ruff]\nline-length = 100\n",
    "setup.cfg": "[flake8]\nmax-line-length = 100\n",
    "services/tox.ini": "[tox]\nenv_list = lint\n",
    "services/api/ruff.toml": "line-length = 100\n",
    "services/api/conftest.py": "import sys\n",
}
# Run in a fresh interpreter: the first key of a process, as `workflow run` computes it.
FIRST_KEY = """
import json, os, sys, time
from pathlib import Path
from orchestrator.cache.key import StageIdentity
from orchestrator.cache.store import CacheStore
from orchestrator.model.config import StageConfig
from orchestrator.pipeline.cachekeys import current_keys
root, cache = Path(sys.argv[1]), Path(sys.argv[2])
stage = StageIdentity("unit", StageConfig(run=(sys.executable, "-c", "pass")), root)
started = time.perf_counter()
current_keys([stage], dict(os.environ), bytes(32), CacheStore(cache, 10**9))
print(json.dumps(time.perf_counter() - started))
"""


def git(root: Path, *args: str) -> None:
    """Run git quietly in `root`."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=300)


def commit_all(root: Path) -> None:
    """A repository of everything under `root`, committed."""
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@invalid", "commit", "-qm", "x")


def write_config(workload: Workload) -> Path:
    """workflow.toml for the five stages; reports and cache inside the project (ignored)."""
    lines = ["[workflow]", 'history = ""', 'reports = "wf/reports"', 'cache = "wf/cache"']
    for number, stage in enumerate(workload.stages, start=2):
        lines += ["", f"[stages.{stage.name}]", f"number = {number}"]
        lines += [f"cwd = {json.dumps(str(stage.cwd))}", f"run = {json.dumps(list(stage.argv))}"]
    config = workload.root / "workflow.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    make = [".PHONY: all " + " ".join(s.name for s in workload.stages)]
    make.append("all: " + " ".join(s.name for s in workload.stages))
    for stage in workload.stages:
        line = f"cd {shlex.quote(str(stage.cwd))} && {shlex.join(stage.argv)}"
        make += [f"{stage.name}:", "\t" + line.replace("$", "$$")]
    (workload.root / "Makefile").write_text("\n".join(make) + "\n", encoding="utf-8")
    return config


def repeat_runs(runs: int) -> dict[str, float]:
    """Median wall of make -j5 and of repeated `workflow run` on the unchanged tree."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        workload = real_workload(scratch / "real")
        config = write_config(workload)
        (workload.root / ".gitignore").write_text("wf/\nlogs/\nMakefile\n__pycache__/\n*.pyc\n")
        (workload.root / "logs").mkdir()
        commit_all(workload.root)
        env = plain_env()
        workflow = str(Path(sys.executable).parent / "workflow")
        argv = (workflow, "run", "--lane", "heavy", "--config", str(config))
        log = workload.root / "logs" / "out"
        made = [measure(plain_argv("make", workload), workload.root, env, log) for _ in range(runs)]
        if any(sample.exit_code != 0 for sample in made):
            raise SystemExit(f"bench: make failed; see {log}")
        make = [sample.wall_s for sample in made]
        cold = measure(argv, workload.root, env, log)
        if cold.exit_code != 0:
            raise SystemExit(f"bench: the first workflow run failed:\n{log.read_text()[-3000:]}")
        repeats = [measure(argv, workload.root, env, log) for _ in range(runs)]
        if any(sample.exit_code != 0 for sample in repeats):
            raise SystemExit(f"bench: a repeat run failed; see {log}")
        if "passed (cached)" not in log.read_text():
            raise SystemExit("bench: the repeat run did not reuse the cache")
        return {
            "make_s": statistics.median(make),
            "first_s": cold.wall_s,
            "repeat_s": statistics.median(s.wall_s for s in repeats),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def lookup_cost(files: int, runs: int) -> dict[str, float]:
    """Median seconds to compute one stage's key in a repository of `files` files: the
    first key of a fresh process and repeated keys in one, clean and with 50 edits."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    try:
        for name, text in CONFIGS.items():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch / name).write_text(text, encoding="utf-8")
        for number in range(files):
            path = scratch / APP / f"pkg{number % 40}" / f"module_{number}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"VALUE = {number}\n" * 20, encoding="utf-8")
        commit_all(scratch)
        figures = {"first_clean_s": 0.0, "first_dirty_s": 0.0, "clean_s": 0.0, "dirty_s": 0.0}
        for state in ("clean", "dirty"):
            if state == "dirty":
                for number in range(0, files, max(1, files // 50)):
                    path = scratch / APP / f"pkg{number % 40}" / f"module_{number}.py"
                    path.write_text("EDITED = True\n", encoding="utf-8")
            figures[f"first_{state}_s"] = _first_keys(scratch, runs)
            figures[f"{state}_s"] = _repeated_keys(scratch, runs)
        return figures
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _first_keys(root: Path, runs: int) -> float:
    cache = root.parent / f"{root.name}-cache"
    argv = [sys.executable, "-c", FIRST_KEY, str(root / APP), str(cache)]
    subprocess.run(argv, check=True, capture_output=True, env=plain_env())  # remembers
    samples = [
        float(subprocess.run(argv, check=True, capture_output=True, env=plain_env()).stdout)
        for _ in range(runs)
    ]
    shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(samples)


def _repeated_keys(root: Path, runs: int) -> float:
    stage = StageIdentity("unit", StageConfig(run=(sys.executable, "-c", "pass")), root / APP)
    current_keys([stage], plain_env(), bytes(32))

    def timed() -> float:
        started = time.perf_counter()
        current_keys([stage], plain_env(), bytes(32))
        return time.perf_counter() - started

    return statistics.median(timed() for _ in range(runs))


def main(argv: Sequence[str] | None = None) -> int:
    """Run both parts, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=2000)
    options = parser.parse_args(argv)
    lookup = lookup_cost(options.files, max(options.runs, 5))
    print(
        f"lookup, {options.files} files, three configured directories above the stage "
        f"(median of {max(options.runs, 5)}): first key of a process "
        f"{lookup['first_clean_s'] * 1000:.0f} ms clean, "
        f"{lookup['first_dirty_s'] * 1000:.0f} ms with 50 files edited; repeated in one "
        f"process {lookup['clean_s'] * 1000:.0f} ms clean, {lookup['dirty_s'] * 1000:.0f} ms "
        f"edited (target < {LOOKUP_TARGET_S * 1000:.0f} ms)"
    )
    figures = repeat_runs(options.runs)
    ratio = figures["repeat_s"] / figures["make_s"]
    print(
        f"sqlparse, 5 stages (median of {options.runs}): make -j5 {figures['make_s']:.2f}s; "
        f"workflow first run {figures['first_s']:.2f}s; repeat on the unchanged tree "
        f"{figures['repeat_s']:.2f}s = {ratio:.3f} of make (target <= {RATIO_TARGET}, "
        f"<= {REPEAT_TARGET_S:.1f}s)"
    )
    slowest = max(lookup["first_clean_s"], lookup["first_dirty_s"])
    met = ratio <= RATIO_TARGET and figures["repeat_s"] <= REPEAT_TARGET_S
    return 0 if met and slowest < LOOKUP_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
