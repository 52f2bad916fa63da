"""`workflow merge` trusts nothing it is given: shards of other plans, configurations or
commits are refused; a stage that ran on no shard is an error; empty shards merge clean.

Each test makes a small project in tmp_path (stages are `python -c` one-liners) and runs
the shards one after another, as a CI matrix would run them side by side.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.command import workflow
from tests.integration.test_shards import merged_record, run_matrix, write_project

pytestmark = pytest.mark.integration


def seed_history(root: Path) -> None:
    """A history in which `unit` is the long stage (100 s against 1 s)."""
    run = workflow(root, "run", "--lane", "heavy", "--report-dir", "seed", "--no-history")
    assert run.returncode == 0, run.stderr
    record_path = next((root / "seed").iterdir()) / "run.json"
    data = json.loads(record_path.read_text())
    for stage in data["stages"]:
        stage["duration_s"] = 100.0 if stage["name"] == "unit" else 1.0
    record_path.write_text(json.dumps(data))
    assert workflow(root, "history", "import", str(record_path)).returncode == 0


def shard(root: Path, label: str, *args: str, where: str = "") -> Path:
    out = root / "shards" / (label.replace("/", "-") + where)
    done = workflow(
        root, "run", "--shard", label, "--lane", "heavy", "--report-dir", str(out), *args
    )
    assert done.returncode in (0, 1), done.stderr
    return next(out.iterdir())


def test_shards_planned_from_histories_that_differ_are_refused(tmp_path: Path) -> None:
    # Two runners without a shared --plan: one has the history, the other none yet.
    write_project(tmp_path)
    seed_history(tmp_path)
    first = shard(tmp_path, "1/2")
    second = shard(tmp_path, "2/2", "--no-history")
    merged = workflow(tmp_path, "merge", str(first), str(second))
    assert merged.returncode == 2
    (line,) = merged.stderr.splitlines()
    assert "shard 2/2 does not belong with" in line
    assert "cut from another shard plan (give every shard the same --plan file)" in line


def test_shards_of_other_commits_or_configurations_are_refused(tmp_path: Path) -> None:
    write_project(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-qm", "one"], cwd=tmp_path, check=True)
    plan = workflow(
        tmp_path, "shard", "plan", "--shards", "2", "--lane", "heavy", "-o", "plan.json"
    )
    assert plan.returncode == 0, plan.stderr
    first = shard(tmp_path, "1/2", "--plan", "plan.json")
    (tmp_path / "notes.txt").write_text("another commit\n")
    subprocess.run(["git", "add", "notes.txt"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-qm", "two"], cwd=tmp_path, check=True)
    second = shard(tmp_path, "2/2", "--plan", "plan.json")
    merged = workflow(tmp_path, "merge", str(first), str(second))
    assert merged.returncode == 2
    assert "shard 2/2 does not belong with" in merged.stderr
    assert "it checked commit" in merged.stderr
    first = shard(tmp_path, "1/2", "--plan", "plan.json", where="-again")
    with (tmp_path / "workflow.toml").open("a") as config:
        config.write("\n[sla]\nwarning_ratio = 0.5\n")
    third = shard(tmp_path, "2/2", "--plan", "plan.json", where="-edited")
    merged = workflow(tmp_path, "merge", str(first), str(third))
    assert merged.returncode == 2
    assert merged.stderr.strip().endswith("it read another configuration.")


def test_a_stage_that_ran_on_no_shard_is_an_error_naming_its_shard(tmp_path: Path) -> None:
    write_project(tmp_path)
    plan, dirs = run_matrix(tmp_path, 2)
    merged = workflow(tmp_path, "merge", str(dirs[0]))
    assert merged.returncode == 1
    record = merged_record(merged.stdout)
    lost = plan["include"][1]["stages"]
    errors = {s["name"]: s for s in record["stages"] if s["status"] == "error"}
    assert sorted(errors) == sorted(lost)
    assert all(
        s["error"] == "ran on no shard: the plan put it on shard 2/2, whose record was not given"
        for s in errors.values()
    )


def test_an_empty_shard_writes_a_record_and_merges_cleanly(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text("[stages.lint]\nrun = ['python', '-c', 'pass']\n")
    plan, dirs = run_matrix(tmp_path, 3)
    assert [entry["stages"] for entry in plan["include"]] == [["lint"], [], []]
    assert len(dirs) == 3  # every shard left its record
    merged = workflow(tmp_path, "merge", *map(str, dirs))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert [s["name"] for s in merged_record(merged.stdout)["stages"]] == ["lint"]


def test_nothing_to_check_is_a_matrix_github_accepts_and_merges_cleanly(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "changed.txt").write_text("")  # no change at all
    planned = workflow(
        tmp_path, "shard", "plan", "--shards", "2", "--changed-files", "changed.txt", "--json"
    )
    assert planned.returncode == 0, planned.stderr
    matrix = json.loads(planned.stdout)
    # GitHub refuses a matrix without entries; each of these runs nothing and says so.
    assert [(e["shard"], e["lane"], e["stages"]) for e in matrix["include"]] == [
        ("1/2", "none", []),
        ("2/2", "none", []),
    ]
    (tmp_path / "plan.json").write_text(planned.stdout)
    dirs = [shard(tmp_path, label, "--plan", "plan.json") for label in ("1/2", "2/2")]
    merged = workflow(tmp_path, "merge", *map(str, dirs))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    record = merged_record(merged.stdout)
    assert (record["lane"], record["stages"], record["exit_code"]) == ("none", [], 0)
