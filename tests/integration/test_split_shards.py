"""A split stage's parts across shards: planned one by one, each run on its shard with the
plan file's split, merged back into one stage with every part (and shown on one timeline).

The matrix runs here one shard after another, as tests/integration/test_shards.py does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.integration.command import workflow
from tests.integration.test_split_run import TEST_FILE, git, project

pytestmark = pytest.mark.integration


def with_lint(root: Path) -> Path:
    lint = [sys.executable, "-c", "print('lint')"]
    with (root / "workflow.toml").open("a") as config:
        config.write(f"[stages.lint]\nnumber = 2\nrun = {json.dumps(lint)}\n")
    return root


def plan_of(root: Path, total: int) -> dict[str, Any]:
    planned = workflow(root, "shard", "plan", "--shards", str(total), "--lane", "heavy", "--json")
    assert planned.returncode == 0, planned.stderr
    (root / "plan.json").write_text(planned.stdout)
    data: dict[str, Any] = json.loads(planned.stdout)
    return data


def run_shards(root: Path, plan: dict[str, Any], skip: str | None = None) -> list[str]:
    dirs = []
    for entry in plan["include"]:
        if entry["shard"] == skip:
            continue
        out = root / "shards" / entry["shard"].replace("/", "-")
        args = ("run", "--shard", entry["shard"], "--plan", "plan.json", "--lane", "heavy")
        done = workflow(root, *args, "--report-dir", str(out), "--no-cache")
        assert done.returncode in (0, 1), done.stdout + done.stderr
        dirs += [str(path) for path in sorted(out.iterdir())]
    return dirs


def merged(root: Path, dirs: list[str]) -> tuple[int, dict[str, Any], Path]:
    done = workflow(root, "merge", *dirs, "--report-dir", str(root / "merged"))
    line = next(x for x in done.stdout.splitlines() if x.startswith("reports: "))
    run_dir = Path(line.removeprefix("reports: "))
    return done.returncode, json.loads((run_dir / "run.json").read_text()), run_dir


def test_parts_of_a_split_stage_go_to_different_shards_and_merge_into_one_stage(
    tmp_path: Path, browser: Browser
) -> None:
    root = with_lint(project(tmp_path / "p", split=2))
    single = workflow(root, "run", "--lane", "heavy", "--no-cache")  # the history to plan by
    assert single.returncode == 0, single.stdout
    plan = plan_of(root, 2)
    entries = [name for entry in plan["include"] for name in entry["stages"]]
    assert sorted(entries) == ["lint", "unit[1/2]", "unit[2/2]"]
    for entry in plan["include"]:
        if any(name.startswith("unit[") for name in entry["stages"]):
            assert entry["splits"]["unit"]["parts"] == 2  # the runner cuts as planned
    code, record, run_dir = merged(root, run_shards(root, plan))
    assert code == 0
    assert [stage["name"] for stage in record["stages"]] == ["lint", "unit"]
    unit = record["stages"][1]
    assert [(part["part"], part["shard"] is not None) for part in unit["parts"]] == [
        ("1/2", True),
        ("2/2", True),
    ]
    assert unit["tests"]["total"] == 10
    log = (run_dir / unit["log"]).read_text()
    assert "--- workflow: part 1/2 (shard" in log
    assert "--- workflow: part 2/2 (shard" in log
    page = browser.new_page()
    try:
        page.goto((run_dir / "report.html").as_uri())
        labels = page.locator("svg text").all_text_contents()
    finally:
        page.close()
    shard_of = {part["part"]: part["shard"] for part in unit["parts"]}
    for part, shard in shard_of.items():
        assert f"{shard} unit[{part}]" in labels  # each part on its shard's row, one timeline


def test_a_failing_part_fails_the_merge_and_a_missing_part_is_not_a_pass(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "p", split=2)
    assert workflow(root, "run", "--lane", "heavy", "--no-cache").returncode == 0
    plan = plan_of(root, 2)
    assert all(len(entry["stages"]) == 1 for entry in plan["include"])
    # Only the first shard's records: part 2/2 never ran, so the stage did not pass.
    first = plan["include"][0]
    out = root / "only-first"
    args = ("run", "--shard", first["shard"], "--plan", "plan.json", "--lane", "heavy")
    workflow(root, *args, "--report-dir", str(out), "--no-cache")
    code, record, _ = merged(root, [str(path) for path in out.iterdir()])
    assert code == 1
    [unit] = record["stages"]
    assert unit["status"] == "failed"
    missing = "1/2" if first["stages"] == ["unit[2/2]"] else "2/2"
    assert unit["error"] == f"parts {missing} did not run: no shard's record has them"
    (root / "tests" / "test_m2.py").write_text(
        TEST_FILE.replace("{stem}", "m2") + "\n\ndef test_broken():\n    assert False\n"
    )
    git(root, "add", "-A")
    code, record, _ = merged(root, run_shards(root, plan))
    assert code == 1
    [unit] = record["stages"]
    assert unit["status"] == "failed"
    assert unit["error"].startswith("part ")
    assert unit["tests"]["failed_ids"] == ["tests/test_m2.py::test_broken"]
