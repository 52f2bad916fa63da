"""Shared resources through `workflow run`: stages that use a resource limited to 1 never
overlap, under every strategy, judged by the times the stages themselves report."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest

from orchestrator.model.config import Strategy
from tests.integration.command import workflow

# Each stage writes "<start> <end>" (wall-clock seconds) to stamps/<name> after sleeping,
# so the interval covers the stage's whole work.
STAMP = (
    "import sys, time, pathlib; start = time.time(); time.sleep(0.4); "
    "out = pathlib.Path('stamps'); out.mkdir(exist_ok=True); "
    "(out / sys.argv[1]).write_text(f'{start} {time.time()}')"
)


def write_project(root: Path) -> None:
    lines = ["[resources]", "db = 1", ""]
    for number, (name, uses) in enumerate(
        [("migrate", '["db"]'), ("integration", '["db"]'), ("seed", '["db"]'), ("lint", "[]")],
        start=2,
    ):
        argv = json.dumps([sys.executable, "-c", STAMP, name])
        lines += [f"[stages.{name}]", f"number = {number}", f"run = {argv}", f"uses = {uses}", ""]
    (root / "workflow.toml").write_text("\n".join(lines))


def interval(root: Path, name: str) -> tuple[float, float]:
    start, end = (root / "stamps" / name).read_text().split()
    return float(start), float(end)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_stages_using_a_resource_limited_to_one_never_overlap(
    strategy: Strategy, tmp_path: Path
) -> None:
    write_project(tmp_path)
    args = ("run", "--lane", "heavy", "--no-history", "--no-cache", "--format", "json")
    result = workflow(tmp_path, *args, "--strategy", strategy.value, "--workers", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    spans = sorted(interval(tmp_path, name) for name in ("migrate", "integration", "seed"))
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        assert first_end <= second_start, f"{strategy.value}: db holders overlapped: {spans}"
    record = json.loads(next((tmp_path / ".workflow" / "reports").glob("*/run.json")).read_text())
    assert record["pool"]["resources"] == {"db": 1}
    uses = {stage["name"]: stage["uses"] for stage in record["stages"]}
    assert uses == {"migrate": ["db"], "integration": ["db"], "seed": ["db"], "lint": []}


def test_dry_run_shows_what_each_stage_uses(tmp_path: Path) -> None:
    write_project(tmp_path)
    result = workflow(tmp_path, "run", "--lane", "heavy", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = {line.split(":")[0].strip(): line for line in result.stdout.splitlines()}
    assert ", uses db" in lines["2 migrate"]
    assert "uses" not in lines["5 lint"]


def test_an_unknown_resource_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[stages.a]\nrun = "true"\nuses = ["db"]\n')
    result = workflow(tmp_path, "run", "--lane", "heavy")
    assert result.returncode == 2
    assert 'stages.a.uses: "db" is not in [resources] (none declared)' in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".workflow").exists()
