"""README's library example runs as written and records what `workflow run` records."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.model.errors import ConfigError, UnknownStageError
from orchestrator.pipeline.workflow import RunOptions, RunStarted, StagesEnded, run_workflow
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

README = Path(__file__).parents[2] / "README.md"
PY = json.dumps(sys.executable)
# A fixed pool: the second run must not size it differently from what the first taught.
CONFIG = f"""\
[lanes.standard]
strategy = "thread"
workers = 2

[stages.lint]
number = 2
run = [{PY}, "-c", "print('lint ok')"]

[stages.unit]
number = 4
run = [{PY}, "-c", "import sys; print('unit broke'); sys.exit(3)"]
needs = []

[stages.scan]
number = 6
run = [{PY}, "-c", "pass"]
needs = ["unit"]
"""


def library_example() -> str:
    section = README.read_text(encoding="utf-8").split("### As a library", 1)[1]
    blocks: list[str] = re.findall(r"```python\n(.+?)\n```", section, flags=re.DOTALL)
    return next(block for block in blocks if "run_workflow(" in block)


def the_record(run_dir: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return data


def comparable(record: dict[str, object]) -> dict[str, object]:
    """What two runs of the same plan decide alike (timings and identity differ)."""
    stages = record["stages"]
    assert isinstance(stages, list)
    return {
        "keys": sorted(record),
        "lane": record["lane"],
        "lane_reasons": record["lane_reasons"],
        "strategy": record["strategy"],
        "workers": record["workers"],
        "exit_code": record["exit_code"],
        "finished": record["finished"],
        "stages": [
            (s["number"], s["name"], s["status"], s["exit_code"], s["sla"]["status"], sorted(s))
            for s in stages
        ],
    }


def test_the_readme_example_records_what_workflow_run_records(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    example = subprocess.run(
        [sys.executable, "-c", library_example()],
        cwd=tmp_path,
        env={**os.environ, "CI": "true", "PYTHONPATH": str(README.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert example.returncode == 0, example.stderr
    printed = example.stdout.splitlines()
    assert printed[0].startswith("running ['lint', 'unit', 'scan'] into ")
    assert printed[-1] == (
        "1 [('lint', 'passed', 'ok'), ('unit', 'failed', 'ok'), ('scan', 'skipped', 'none')]"
    )
    library_dir = Path(printed[0].rsplit(" into ", 1)[1])

    command = workflow(tmp_path, "run", "--lane", "standard", "--format", "json")
    assert command.returncode == 1, command.stderr
    command_dir = Path(command.stdout.splitlines()[-1].removeprefix("reports: "))

    assert library_dir != command_dir
    assert comparable(the_record(library_dir)) == comparable(the_record(command_dir))
    assert sorted(p.name for p in library_dir.iterdir()) == ["logs", "run.json"]
    assert sorted(p.name for p in command_dir.iterdir()) == ["logs", "run.json"]


def test_events_arrive_in_order_and_nothing_is_printed(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    events: list[object] = []
    result = run_workflow(
        RunOptions(only=("lint",), cwd=tmp_path, changed_files=["src/x.py"], history=False),
        on_event=events.append,
    )
    assert result.exit_code == 0
    assert result.record is not None and result.record.lane == "standard"
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], StagesEnded)
    kinds = [getattr(e, "kind", None) for e in events[1:-1]]
    assert kinds == ["start", "end"]
    assert capfd.readouterr() == ("", "")


def test_nothing_to_check_and_a_dry_run_start_nothing(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    nothing = run_workflow(RunOptions(cwd=tmp_path, changed_files=[]))
    assert (nothing.exit_code, nothing.plan, nothing.record) == (0, None, None)
    assert nothing.reasons
    planned = run_workflow(RunOptions(cwd=tmp_path, changed_files=["a.py"], dry_run=True))
    assert planned.plan is not None and planned.record is None
    assert [s.name for s in planned.plan.stages] == ["lint", "unit", "scan"]
    assert not (tmp_path / ".workflow").exists()


def test_errors_carry_exit_code_2_and_name_no_option(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    with pytest.raises(UnknownStageError) as unknown:
        run_workflow(RunOptions(cwd=tmp_path, only=("nope",), changed_files=["a.py"]))
    assert unknown.value.exit_code == 2
    assert "--" not in unknown.value.message
    (tmp_path / "workflow.toml").write_text("[stages.lint]\nrun = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        run_workflow(RunOptions(cwd=tmp_path, changed_files=["a.py"]))
    assert bad.value.exit_code == 2
