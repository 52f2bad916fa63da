"""`workflow profile`: each stage exactly N times, one at a time, through the real engine."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pytest

from orchestrator.configfile.edit import write_targets
from orchestrator.configfile.load import load_config
from orchestrator.engine.scheduling.sizing import Machine
from orchestrator.model.config import Lane
from orchestrator.model.records import StageRecord, StageStatus
from orchestrator.model.strategies import CPU_BOUND_CORES
from orchestrator.pipeline.plan import PlanOptions, build_plan
from orchestrator.pipeline.profile import (
    StageProfileReport,
    lane_strategy,
    suggest_target,
    summarise,
    worth_parallelising,
)
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
MACHINE = Machine(affinity_cpus=2, quota_cpus=None, memory_available=2**33, memory_total=2**34)
# Each stage appends "name start end" to a shared file, so the test sees every run and
# whether two ever overlapped.
STAMP = (
    "import os, sys, time, pathlib\n"
    "start = time.time()\n"
    "{body}\n"
    "with pathlib.Path(sys.argv[1]).open('a') as log:\n"
    "    log.write(f\"{{os.environ['WORKFLOW_STAGE']}} {{start}} {{time.time()}}\\n\")\n"
)
BUSY = "end = time.time() + 0.6\nwhile time.time() < end: pass"
SLEEP = "time.sleep(0.6)"
CONFIG = """\
# The project's stages. This comment must survive --write.
[workflow]
history = ""  # no history for this test

[stages.spin]
run = [@PY@, "-c", @BUSY@, @LOG@]

[stages.wait]
run = [@PY@, "-c", @SLEEP@, @LOG@]

[lanes.heavy]
stage_sla = 60   # seconds, every stage
budget = 600
"""


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "workflow.toml").write_text(
        CONFIG.replace("@PY@", toml_string(PY))
        .replace("@BUSY@", toml_string(STAMP.format(body=BUSY)))
        .replace("@SLEEP@", toml_string(STAMP.format(body=SLEEP)))
        .replace("@LOG@", toml_string(str(tmp_path / "runs.log")))
    )
    return tmp_path


def runs(project: Path) -> list[tuple[str, float, float]]:
    lines = (project / "runs.log").read_text().splitlines()
    return [(name, float(start), float(end)) for name, start, end in map(str.split, lines)]


EXECUTOR = {"cpu": "process", "io": "thread"}


def test_each_stage_runs_exactly_n_times_one_at_a_time(project: Path) -> None:
    result = workflow(project, "profile", "--iterations", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = runs(project)
    assert sorted(name for name, _, _ in seen) == ["spin"] * 3 + ["wait"] * 3
    ordered = sorted(seen, key=lambda run: run[1])
    for (_, _, end), (_, start, _) in itertools.pairwise(ordered):
        assert end <= start, "two stages ran at the same time"
    table = [re.split(r"\s{2,}", line) for line in result.stdout.splitlines() if "  " in line]
    rows = {row[0]: row for row in table}
    assert rows["spin"][1] == rows["wait"][1] == "3/3"
    # How much of a core the spinning stage got depends on the machine's load, so whether
    # it measured as CPU-bound does too (test_summarise_* hold that decision with given
    # figures); the executor advised follows the classification either way. A stage that
    # sleeps can only measure as I/O-bound: load lowers its CPU share, never raises it.
    assert rows["spin"][8] == EXECUTOR[rows["spin"][7]]
    assert (rows["wait"][7], rows["wait"][8]) == ("io", "thread")
    # The parallelising advice is the one the printed mean and CPU call for.
    cores = float(re.findall(r"\(([\d.]+) usable cores\)", result.stdout)[0])
    for name in ("spin", "wait"):
        mean, cpu = float(rows[name][2].removesuffix("s")), float(rows[name][5].removesuffix("%"))
        worth, reason = worth_parallelising(mean, cpu, cores)
        assert rows[name][9] == ("yes" if worth else "no"), rows[name]
        assert f"{name}: {'worth' if worth else 'not worth'} parallelising: {reason}" in (
            result.stdout
        )
    # The suggestion follows the observed p95, as printed (to 0.01 s below 10 s).
    p95_text = rows["spin"][4].removesuffix("s")
    p95, precision = float(p95_text), 10 ** -len(p95_text.partition(".")[2]) / 2
    expected = {f"{suggest_target(p95 + delta):g}s" for delta in (-precision, precision)}
    assert rows["spin"][-1] in expected
    assert "recommended strategy for the heavy lane:" in result.stdout


def profiled_run(cpu_percent: float, status: StageStatus = StageStatus.PASSED) -> StageRecord:
    return StageRecord(
        number=2, name="spin", status=status, attempts=1, duration_s=2.0, cpu_percent=cpu_percent
    )


@pytest.mark.parametrize(
    ("cpu_percents", "bound"),
    [
        ([98.0, 97.0, 99.0], "cpu"),
        ([95.0, 30.0, 90.0], "cpu"),  # one slow spell does not make it I/O-bound
        ([10.0, 60.0, 5.0], "io"),
        ([CPU_BOUND_CORES * 100], "cpu"),
        ([CPU_BOUND_CORES * 100 - 0.1], "io"),
    ],
)
def test_summarise_classifies_by_the_median_cpu_of_the_runs(
    project: Path, cpu_percents: list[float], bound: str
) -> None:
    loaded = load_config(project / "workflow.toml")
    plan = build_plan(loaded, PlanOptions(lane=Lane.HEAVY), MACHINE)
    report = summarise("spin", [profiled_run(cpu) for cpu in cpu_percents], plan)
    assert (report.bound, report.strategy) == (bound, EXECUTOR[bound])


def test_summarise_measures_only_the_runs_that_passed(project: Path) -> None:
    plan = build_plan(load_config(project / "workflow.toml"), PlanOptions(lane=Lane.HEAVY), MACHINE)
    records = [profiled_run(95.0), profiled_run(2.0, StageStatus.FAILED), profiled_run(97.0)]
    report = summarise("spin", records, plan)
    assert (report.bound, report.cpu_percent, report.passed, report.runs) == ("cpu", 96.0, 2, 3)
    assert report.suggested_s is None


def test_write_updates_the_lane_targets_keeping_comments(project: Path) -> None:
    before = (project / "workflow.toml").read_text()
    result = workflow(project, "profile", "--iterations", "1", "--only", "wait", "--write")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [name for name, _, _ in runs(project)] == ["wait"]
    after = (project / "workflow.toml").read_text()
    assert after.startswith(before.split("[lanes.heavy]")[0])  # untouched above the lane
    assert "stage_sla = 60   # seconds, every stage" in after
    assert "# The project's stages. This comment must survive --write." in after
    # What is written is the suggestion the table shows (its value depends on the load).
    table = [re.split(r"\s{2,}", line) for line in result.stdout.splitlines() if "  " in line]
    suggested = float(next(row for row in table if row[0] == "wait")[-1].removesuffix("s"))
    assert suggested >= 1.0
    assert load_config(project / "workflow.toml").config.lanes.heavy.sla == {"wait": suggested}
    assert f"lanes.heavy.sla: wait = {suggested:g}" in result.stdout


def test_a_failing_stage_gets_no_target_and_exit_1(project: Path) -> None:
    config = project / "workflow.toml"
    broken = f'[stages.broken]\nrun = [{toml_string(PY)}, "-c", "raise SystemExit(3)"]\n'
    config.write_text(config.read_text() + "\n" + broken)
    result = workflow(project, "profile", "--iterations", "2", "--only", "broken", "--write")
    assert result.returncode == 1
    assert "broken: 2 runs did not pass (failed" in result.stdout
    assert "nothing written" in result.stderr
    assert "\nsla =" not in config.read_text()


@pytest.mark.parametrize(
    "args", [("--only", "nope"), ("--iterations", "0"), ("--only", " "), ("--lane", "x")]
)
def test_usage_errors_exit_2_without_traceback(project: Path, args: tuple[str, ...]) -> None:
    result = workflow(project, "profile", *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not (project / "runs.log").exists()


@pytest.mark.parametrize(
    ("p95", "target"),
    [(0.02, 1.0), (1.1, 2.0), (6.5, 10.0), (7.0, 15.0), (30.0, 45.0), (100.0, 150.0), (900, 1380)],
)
def test_suggested_targets_are_p95_with_headroom_rounded_up(p95: float, target: float) -> None:
    assert suggest_target(p95) == target


def test_parallelising_advice() -> None:
    assert worth_parallelising(0.2, 10.0, 4)[0] is False
    assert worth_parallelising(30.0, 5.0, 4) == (
        True,
        "waits most of the time (CPU 5%): overlapping it costs no core",
    )
    assert worth_parallelising(30.0, 380.0, 4)[0] is False
    assert worth_parallelising(30.0, 100.0, 4)[0] is True


def report(name: str, bound: str, cpu: float, parallel: bool = True) -> StageProfileReport:
    return StageProfileReport(
        name=name,
        number=2,
        runs=3,
        passed=3,
        mean_s=10.0,
        stdev_s=0.1,
        p95_s=10.2,
        cpu_percent=cpu,
        peak_rss_bytes=0,
        bound=bound,
        strategy="process" if bound == "cpu" else "thread",
        parallel=parallel,
        parallel_reason="",
        target_s=60.0,
        suggested_s=16.0,
    )


def test_lane_strategy() -> None:
    assert lane_strategy([report("a", "cpu", 95)], 4)[0] == "sequential"
    assert lane_strategy([report("a", "io", 5), report("b", "io", 3)], 4)[0] == "thread"
    strategy, reason = lane_strategy([report("a", "cpu", 95), report("b", "io", 3)], 4)
    assert strategy == "adaptive"
    assert "1 CPU-bound stages need 0.9 cores of 4 usable" in reason


def test_write_targets_into_pyproject_tool_workflow(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"  # keep\n\n[tool.workflow.stages.lint]\nrun = "true"\n\n'
        "[tool.workflow.lanes.standard]\nsla = { lint = 30 }  # old\n"
    )
    loaded = load_config(pyproject)
    write_targets(loaded, "standard", {"lint": 5.0})
    write_targets(load_config(pyproject), "heavy", {"lint": 7.5})
    text = pyproject.read_text()
    assert 'name = "x"  # keep' in text
    assert "sla = { lint = 5 }  # old" in text
    reloaded = load_config(pyproject).config.lanes
    assert reloaded.standard.sla == {"lint": 5.0}
    assert reloaded.heavy.sla == {"lint": 7.5}
