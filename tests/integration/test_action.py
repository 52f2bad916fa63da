"""The composite action (action.yml) driven as a matrix would drive it, here, without GitHub.

Each mode's step is read from action.yml and its script run by bash with the step's
environment (the `${{ inputs.X }}` values filled in) and a GITHUB_OUTPUT file, in a
project directory: plan once, each shard of the matrix, then merge. The plan travels as
a file (the documented workflow carries it as an artifact): here each shard reads it from
its own copy, as a runner reads what it downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.integration.command import workflow

ACTION = Path(__file__).parents[2] / "action.yml"
INPUT = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_mode(root: Path, mode: str, **given: str) -> tuple[int, dict[str, str]]:
    """Run the step that `mode` selects; its exit code and the outputs it wrote."""
    spec = action()
    inputs = {name: str(item.get("default", "")) for name, item in spec["inputs"].items()}
    inputs.update({name.replace("_", "-"): value for name, value in given.items()}, mode=mode)
    steps = [s for s in spec["runs"]["steps"] if s.get("if") == f"inputs.mode == '{mode}'"]
    assert len(steps) == 1, f"one step runs in mode {mode}"
    step = steps[0]
    env = {
        key: INPUT.sub(lambda m: inputs[m.group(1)], value) for key, value in step["env"].items()
    }
    output = root / f"github-output-{mode}"
    output.write_text("")
    bin_dir = str(Path(sys.executable).parent)  # where the `workflow` script is installed
    result = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=root,
        env={
            **os.environ,
            "CI": "true",
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(output),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, outputs


def write_project(root: Path) -> None:
    lines = []
    for number, name in enumerate(["lint", "types", "unit", "security"], start=2):
        code = "raise SystemExit(1)" if name == "security" else f"print({name!r})"
        argv = json.dumps([sys.executable, "-c", code])
        lines += [f"[stages.{name}]", f"number = {number}", f"run = {argv}"]
    (root / "workflow.toml").write_text("\n".join(lines) + "\n")


def run_matrix(root: Path, shards: int) -> dict[str, Any]:
    """The plan step, then the shard step once per matrix entry, each with its own copy
    of the plan file (the artifact a shard job downloads); the matrix output."""
    code, outputs = run_mode(root, "plan", shards=str(shards), lane="heavy")
    assert code == 0
    plan: dict[str, Any] = json.loads(outputs["matrix"])  # the plan job's output
    for index, entry in enumerate(plan["include"]):
        downloaded = root / "downloads" / f"shard-{index}" / "workflow-plan.json"
        downloaded.parent.mkdir(parents=True)
        shutil.copyfile(root / "workflow-plan.json", downloaded)
        code, outputs = run_mode(
            root,
            "shard",
            plan_file=str(downloaded),
            shard=entry["shard"],
            report_dir=f"artifacts/shard-{index}",
        )
        assert outputs["exit-code"] == str(code)
        entry["exit-code"] = code
    return plan


def test_plan_then_each_shard_then_merge_through_the_composite_action(tmp_path: Path) -> None:
    write_project(tmp_path)
    plan = run_matrix(tmp_path, 2)
    assert [entry["shard"] for entry in plan["include"]] == ["1/2", "2/2"]
    codes = {entry["shard"]: entry["exit-code"] for entry in plan["include"]}
    failing = next(e["shard"] for e in plan["include"] if "security" in e["stages"])
    assert codes == {e["shard"]: 1 if e["shard"] == failing else 0 for e in plan["include"]}
    code, outputs = run_mode(tmp_path, "merge", paths="artifacts/*/*", report_dir="merged")
    assert code == 1  # the worst of the shards'
    assert outputs["exit-code"] == "1"
    merged = next((tmp_path / "merged").iterdir()) / "run.json"
    record = json.loads(merged.read_text())
    assert [s["name"] for s in record["stages"]] == ["lint", "types", "unit", "security"]
    assert [s["shard"] for s in record["shards"]] == ["1/2", "2/2"]
    history = json.loads(workflow(tmp_path, "history", "--json").stdout)
    assert record["run_id"] in [run["run_id"] for run in history]


MANY_CASES = """
import pytest


@pytest.mark.parametrize("case", range(4000))
def test_case(case):
    assert case >= 0
"""


def test_a_plan_of_4000_parametrized_cases_travels_as_a_file(tmp_path: Path) -> None:
    # One split stage whose history knows its 4,000 cases: its split plan names each one,
    # hundreds of KB that no environment variable (128 KiB) or job output could carry.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_many.py").write_text(MANY_CASES)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    argv = json.dumps([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
    (tmp_path / "workflow.toml").write_text(f"[stages.unit]\nrun = {argv}\nsplit = 2\n")
    first = workflow(tmp_path, "run", "--lane", "heavy", "--format", "json", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr  # the history learns the cases
    plan = run_matrix(tmp_path, 2)
    written = tmp_path / "workflow-plan.json"
    assert written.stat().st_size > 128 * 1024
    assert "splits" not in json.dumps(plan)  # the job output holds labels and stages only
    assert sorted(stage for e in plan["include"] for stage in e["stages"]) == [
        "unit[1/2]",
        "unit[2/2]",
    ]
    assert [entry["exit-code"] for entry in plan["include"]] == [0, 0]
    code, outputs = run_mode(tmp_path, "merge", paths="artifacts/*/*", report_dir="merged")
    assert (code, outputs["exit-code"]) == (0, "0")
    record = json.loads((next((tmp_path / "merged").iterdir()) / "run.json").read_text())
    (unit,) = record["stages"]
    assert (unit["status"], unit["tests"]["total"], unit["tests"]["not_run"]) == ("passed", 4000, 0)
    assert sorted(part["shard"] for part in unit["parts"]) == ["1/2", "2/2"]
    assert len({part["collection"] for part in unit["parts"]}) == 1


def test_merge_with_no_records_fails_with_one_line(tmp_path: Path) -> None:
    write_project(tmp_path)
    code, outputs = run_mode(tmp_path, "merge", paths="artifacts/*/*")
    assert code == 1
    assert outputs["exit-code"] == "1"


def test_the_action_and_its_documented_workflow_pass_actionlint() -> None:
    workflow_file = ACTION.parent / ".github" / "workflows" / "sharded.yml"
    text = workflow_file.read_text(encoding="utf-8")
    assert "uses: ./" in text  # actionlint checks the inputs given against action.yml
    readme = (ACTION.parent / "README.md").read_text(encoding="utf-8")
    assert text.strip() in readme  # the README shows the workflow as it is
    actionlint = Path(sys.executable).parent / "actionlint"
    result = subprocess.run(
        [str(actionlint), "-no-color", str(workflow_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=ACTION.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
