"""Benchmark start-up and teardown: from `workflow run` to the first stage, and from the
last stage's end to workflow's exit.

    python bench/bench_startup.py [--runs N] [--venv-files N] [--json PATH]

A small git project (a package, its tests, a workflow.toml with history, reports and the
result cache at their defaults, and a stage run by a Python environment's tool, whose key
covers that environment) is run with `workflow run --lane heavy --no-cache` (the
keys are still computed, as for a miss) through the console script, as a user types it.
Two stages write the time (`date +%s%N`, outside the project) when they start; the
second ends 0.3 s later, writing the time again just before it exits. Start-up is the
first stage's stamp minus the moment before the command was started; teardown is the
moment `wait4` returned minus the last stage's end stamp. Both are measured with and
without a virtualenv of `--venv-files` files (6,000) inside the project that git does
not ignore, with the output on a pseudo-terminal (the live view) and not (CI, the
hook), and printed as medians of `--runs` runs (5) each after one warm-up run.
Targets: start-up at most 0.15 s, teardown at most 0.3 s; exit 1 when a median misses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

START_TARGET_S = 0.15
TEARDOWN_TARGET_S = 0.3
LAST_STAGE_S = 0.3


def git(root: Path, *args: str) -> None:
    """Run git quietly in `root`."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=300)


def make_project(root: Path, stamps: Path) -> None:
    """The project: a package and a test, two stages that stamp their start and end."""
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": "def add(a, b):\n    return a + b\n",
        "tests/test_core.py": "def test_nothing():\n    pass\n",
        "README.md": "# bench\n",
        ".gitignore": "__pycache__/\n",
        "workflow.toml": (
            # I/O-bound: the three start together, whatever the cores.
            "[stages.first]\nkind = 'io'\n"
            f"run = ['sh', '-c', 'date +%s%N > {stamps}/first.start']\n"
            "[stages.last]\nkind = 'io'\n"
            f"run = ['sh', '-c', 'date +%s%N > {stamps}/last.start; sleep {LAST_STAGE_S}; "
            f"date +%s%N > {stamps}/last.end']\n"
            # A tool in a Python environment, as ruff, mypy or pytest: its key (the
            # interpreter and the installed distributions) is computed before any stage.
            "[stages.tool]\nkind = 'io'\n"
            "run = ['python', '-c', 'pass']\n"
        ),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@invalid", "commit", "-qm", "x")


def make_venv(root: Path, count: int) -> None:
    """A virtualenv-shaped tree of `count` files (4 KiB each) that git does not ignore."""
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n", encoding="utf-8")
    block = ("# a module of an installed package\n" * 120)[:4096]
    per_package = 50
    for index in range(count - 1):
        package = venv / "lib" / "python3.11" / "site-packages" / f"dist{index // per_package}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{index % per_package}.py").write_text(block, encoding="utf-8")


def _drain(descriptor: int) -> None:
    """Read a terminal's output until its other end closes (a terminal that is not read
    would block the program writing to it)."""
    with contextlib.suppress(OSError):
        while os.read(descriptor, 65536):
            pass


def one_run(root: Path, stamps: Path, workflow: Path, *, terminal: bool) -> tuple[float, float]:
    """(start-up s, teardown s) of one `workflow run`, its output on a pseudo-terminal
    (the live view, as a person sees it) or not (CI, the hook)."""
    for old in stamps.iterdir():
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    primary, secondary = pty.openpty() if terminal else (-1, subprocess.DEVNULL)
    launched = time.time_ns()
    process = subprocess.Popen(
        [str(workflow), "run", "--lane", "heavy", "--no-cache"],
        cwd=root,
        env={**env, "TERM": "xterm-256color"},
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    reader = None
    if terminal:
        os.close(secondary)
        reader = threading.Thread(target=_drain, args=(primary,), daemon=True)
        reader.start()
    _, status, _ = os.wait4(process.pid, 0)
    ended = time.time_ns()
    process.returncode = os.waitstatus_to_exitcode(status)
    if reader is not None:
        reader.join(timeout=10)
        os.close(primary)
    if process.returncode != 0:
        raise SystemExit(f"workflow run failed with exit code {process.returncode} in {root}")
    first = min(int((stamps / name).read_text()) for name in ("first.start", "last.start"))
    last_end = int((stamps / "last.end").read_text())
    return (first - launched) / 1e9, (ended - last_end) / 1e9


def measure(runs: int, venv_files: int) -> dict[str, list[float]]:
    """Start-up and teardown samples, without and with the virtualenv, in a terminal and
    not; the runs of the four take turns, so a busy moment of the machine is shared."""
    workflow = Path(sys.executable).parent / "workflow"
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="workflow-bench-startup-") as scratch:
        cases = []
        for label, files in (("no .venv", 0), (f".venv of {venv_files:,} files", venv_files)):
            root = Path(scratch) / f"project-{files}"
            stamps = Path(scratch) / f"stamps-{files}"
            stamps.mkdir()
            make_project(root, stamps)
            if files:
                make_venv(root, files)
            for terminal in (False, True):
                where = "terminal" if terminal else "no terminal"
                cases.append((f"{label}, {where}", root, stamps, terminal))
                # Warm-up: the history, the template cache, the page cache.
                one_run(root, stamps, workflow, terminal=terminal)
        for _ in range(runs):
            for name, root, stamps, terminal in cases:
                start, down = one_run(root, stamps, workflow, terminal=terminal)
                results.setdefault(f"start-up, {name}", []).append(start)
                results.setdefault(f"teardown, {name}", []).append(down)
    return results


def main() -> int:
    """Measure, print medians, exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--venv-files", type=int, default=6000)
    parser.add_argument("--json", type=Path, default=None, help="Also write every sample here.")
    args = parser.parse_args()
    results = measure(args.runs, args.venv_files)
    missed = False
    for name, samples in results.items():
        target = START_TARGET_S if name.startswith("start") else TEARDOWN_TARGET_S
        median = statistics.median(samples)
        verdict = "ok" if median <= target else "MISSED"
        missed = missed or median > target
        shown = ", ".join(f"{s:.3f}" for s in samples)
        print(f"{name}: median {median:.3f}s (target {target:g}s, {verdict}); runs: {shown}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
