"""The project bench/bench_select.py selects on: more-itertools from its sdist, in git.

more-itertools 10.7.0 (pure Python, 670 tests in two files, no dependencies) is unpacked
into bench/.work/select/project and committed into a fresh repository, with three files
of the bench's own beside its tests: a `conftest.py` fixture, a data file a test reads,
and a test that runs the package in a subprocess (`python -c "import more_itertools"`).
Its tests run from a virtualenv of their own (bench/.work/select/env: pytest and coverage
from the package index, kept between runs), so a distribution can be upgraded with pip.
Three number-crunching tests (a prime sieve, a Fourier round trip, a large polynomial)
are deselected in the stage's command: together they take longer than the other 667,
and the bench runs the full suite once per mutant. A test a mutant sends into an
endless loop fails after TEST_TIMEOUT_S (pytest-timeout), and the others still run.

Two configurations share the stage: `workflow.toml` selects (`select = "affected"`, the
map in `.workflow/history.db`), `full.toml` runs every test without history (the truth,
and the full stage's wall time).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runners import fetch_sdist
from orchestrator.engine.pytest.junit import read_junit

PROJECT = "more_itertools"  # as its sdist is named
VERSION = "10.7.0"
WORK = Path(__file__).parent / ".work" / "select"
ENV_PACKAGES = ("pytest", "pytest-timeout", "coverage", "iniconfig==2.0.0")
# A mutant can make a loop endless: that test fails at this many seconds and the others
# still run. The slowest test takes about 1.4 s while learning on a loaded machine: ten
# times that leaves room, and an endless loop costs 15 s, not the stage's timeout.
TEST_TIMEOUT_S = 15
# A mutant whose endless loop sits in C (arithmetic on ever larger integers) is beyond a
# per-test timeout's signal: the stage ends there, and the full suite's truth is unknown.
STAGE_TIMEOUT_S = 300
UPGRADE = ("iniconfig", "2.0.0", "2.1.0")  # the distribution the bench upgrades, from, to
SLOW = (
    "tests/test_recipes.py::PrimeFunctionTests::test_primes",
    "tests/test_more.py::DiscreteFourierTransformTests::test_roundtrip",
    "tests/test_recipes.py::PolynomialFromRootsTests::test_large",
)
SOURCES = ("more_itertools/more.py", "more_itertools/recipes.py")
INNER_ENV = ("WORKFLOW_SELECT", "WORKFLOW_SELECT_CHILD", "WORKFLOW_SELECT_CONTEXT")

CONFTEST = """\
import pytest


@pytest.fixture
def bench_values():
    return [1, 2, 3]
"""
EXTRA_TESTS = """\
import json
import subprocess
import sys
from pathlib import Path

import more_itertools as mi

HERE = Path(__file__).parent


def test_reads_its_data_file(bench_values):
    expected = json.loads((HERE / "bench_data.json").read_text())["chunks"]
    assert [list(c) for c in mi.chunked(bench_values, 2)] == expected


def test_runs_the_package_in_a_subprocess():
    code = "import more_itertools as mi; print(list(mi.chunked([1, 2, 3], 2)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE.parent, check=True
    )
    assert out.stdout.strip() == "[[1, 2], [3]]"
"""


@dataclass(frozen=True)
class StageRun:
    """One `workflow run` of the stage: exit code, wall (whole process and the stage's),
    the tests that ran and those that failed (from its JUnit file), its record."""

    code: int
    wall_s: float
    stage_s: float
    ran: frozenset[str]
    failed: frozenset[str]
    stage: dict[str, Any]

    @property
    def finished(self) -> bool:
        """Whether the stage ran to its end (not past its timeout)."""
        return self.stage.get("status") != "timeout"

    @property
    def selection(self) -> dict[str, Any]:
        """The stage's `tests.selection` ({} without one)."""
        return dict((self.stage.get("tests") or {}).get("selection") or {})


class Project:
    """The bench's project: its directory, environment and the two configurations."""

    def __init__(self, work: Path = WORK) -> None:
        self.work = work
        self.root = work / "project"
        self.env = work / "env"
        self.python = self.env / "bin" / "python"

    def prepare(self) -> None:
        """A fresh copy of the project, committed; the environment made once."""
        if not self.python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.env)], check=True)
        pip = [str(self.python), "-m", "pip", "install", "-q", *ENV_PACKAGES]
        subprocess.run(pip, check=True)
        self.install(UPGRADE[1])
        if self.root.exists():
            shutil.rmtree(self.root)
        unpacked = self.work / "unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        with tarfile.open(fetch_sdist(PROJECT, VERSION)) as archive:
            archive.extractall(unpacked, filter="data")
        shutil.move(next(unpacked.iterdir()), self.root)
        shutil.rmtree(unpacked)
        with (self.root / "pyproject.toml").open("a", encoding="utf-8") as out:
            out.write('\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
        files = {
            "tests/conftest.py": CONFTEST,
            "tests/test_bench_extra.py": EXTRA_TESTS,
            "tests/bench_data.json": json.dumps({"chunks": [[1, 2], [3]]}) + "\n",
            ".gitignore": ".workflow/\n__pycache__/\n",
            "workflow.toml": self.config(select="affected", history=".workflow/history.db"),
            "full.toml": self.config(select="all", history=""),
        }
        for name, text in files.items():
            (self.root / name).write_text(text, encoding="utf-8")
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-qm", "more-itertools as the bench runs it")

    def install(self, version: str) -> None:
        """The upgraded distribution at `version` in the stage's environment."""
        spec = f"{UPGRADE[0]}=={version}"
        subprocess.run([str(self.python), "-m", "pip", "install", "-q", spec], check=True)

    def argv(self) -> list[str]:
        """The stage's command."""
        argv = [str(self.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        argv.append(f"--timeout={TEST_TIMEOUT_S}")
        for test in SLOW:
            argv += ["--deselect", test]
        return argv

    def config(self, *, select: str, history: str) -> str:
        """A workflow configuration of the one pytest stage."""
        argv = self.argv()
        return "\n".join(
            [
                "[workflow]",
                f"history = {json.dumps(history)}",
                'reports = ".workflow/reports"',
                'cache = ""',
                "",
                "[stages.unit]",
                "number = 4",
                f"run = {json.dumps(argv)}",
                f'select = "{select}"',
                f"timeout = {STAGE_TIMEOUT_S}",
                "",
            ]
        )

    def git(self, *args: str) -> None:
        """git in the project (its own repository, whatever holds bench/.work)."""
        identity = ("-c", "user.email=bench@example.com", "-c", "user.name=bench")
        subprocess.run(["git", *identity, *args], cwd=self.root, check=True, capture_output=True)

    def run(self, config: str = "workflow.toml", *args: str) -> StageRun:
        """`workflow run` of the stage; what it ran and failed, and how long it took."""
        env = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
        argv = [sys.executable, "-m", "orchestrator", "run", "--config", config]
        argv += ["--lane", "heavy", "--format", "json", *args]
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=self.root,
            env={**env, "CI": "true"},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        reports = sorted((self.root / ".workflow" / "reports").glob("*/run.json"))
        if not reports:
            raise SystemExit(f"bench: workflow run left no record:\n{done.stdout}{done.stderr}")
        record = json.loads(reports[-1].read_text())
        stage = next(s for s in record["stages"] if s["name"] == "unit")
        junit = (stage.get("tests") or {}).get("junit")  # none when the stage timed out
        cases = (read_junit(reports[-1].parent / junit) or []) if junit else []
        return StageRun(
            code=done.returncode,
            wall_s=wall,
            stage_s=float(stage["duration_s"]),
            ran=frozenset(c.id for c in cases),
            failed=frozenset(c.id for c in cases if c.outcome.bad),
            stage=stage,
        )

    def dry_run(self, config: str) -> float:
        """Seconds of `workflow run --dry-run` with `config` (the plan, and a selecting
        stage's decision, made; nothing run)."""
        env = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
        argv = [sys.executable, "-m", "orchestrator", "run", "--config", config]
        started = time.perf_counter()
        subprocess.run(
            [*argv, "--lane", "heavy", "--dry-run"],
            cwd=self.root,
            env=env,
            capture_output=True,
            check=False,
        )
        return time.perf_counter() - started

    def collect_only(self) -> float:
        """Seconds of the stage's command with `--collect-only`: pytest's start and the
        collection of every test, which any run pays."""
        argv = self.argv()
        started = time.perf_counter()
        subprocess.run([*argv, "--collect-only"], cwd=self.root, capture_output=True, check=False)
        return time.perf_counter() - started

    @property
    def history(self) -> Path:
        """The map's database."""
        return self.root / ".workflow" / "history.db"

    def keep_map(self, copy: Path) -> None:
        """Save the learned map (the history database) to put back later."""
        shutil.copy2(self.history, copy)

    def restore_map(self, copy: Path) -> None:
        """Put the learned map back, as if the runs since had not happened."""
        for companion in ("-wal", "-shm"):
            Path(f"{self.history}{companion}").unlink(missing_ok=True)
        shutil.copy2(copy, self.history)
