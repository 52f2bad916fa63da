"""Shards as a CI matrix runs them, here one after another: plan, run --shard, merge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from orchestrator.model.config import Lane
from orchestrator.pipeline.workflow import RunOptions, ShardChosen, run_workflow
from tests.integration.command import workflow

STAGES = {
    "lint": "print('lint')",
    "types": "print('types')",
    "unit": "print('unit')",
    "integration": "print('integration')",
    "security": "print('security')",
}


def write_project(root: Path, failing: str | None = None) -> None:
    lines = []
    for number, (name, code) in enumerate(STAGES.items(), start=2):
        body = "raise SystemExit('broken on purpose')" if name == failing else code
        lines += [
            f"[stages.{name}]",
            f"number = {number}",
            f"run = {json.dumps([sys.executable, '-c', body])}",
        ]
    (root / "workflow.toml").write_text("\n".join(lines) + "\n")


def run_matrix(root: Path, total: int) -> tuple[dict[str, Any], list[Path]]:
    planned = workflow(root, "shard", "plan", "--shards", str(total), "--lane", "heavy", "--json")
    assert planned.returncode == 0, planned.stderr
    (root / "plan.json").write_text(planned.stdout)
    plan = json.loads(planned.stdout)
    dirs = []
    for entry in plan["include"]:
        shard_dir = root / "shards" / entry["shard"].replace("/", "-")
        args = ("run", "--shard", entry["shard"], "--plan", "plan.json", "--lane", "heavy")
        result = workflow(root, *args, "--report-dir", str(shard_dir), "--format", "json")
        assert result.returncode in (0, 1), result.stderr
        dirs += sorted(shard_dir.iterdir())
    return plan, dirs


def merged_record(output: str) -> dict[str, Any]:
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    data = json.loads((Path(line.removeprefix("reports: ")) / "run.json").read_text())
    assert isinstance(data, dict)
    return data


def test_three_shards_merge_into_the_record_a_single_run_makes(tmp_path: Path) -> None:
    write_project(tmp_path)
    plan, dirs = run_matrix(tmp_path, 3)
    assert [entry["shard"] for entry in plan["include"]] == ["1/3", "2/3", "3/3"]
    assert len(dirs) == 3
    for shard_dir, entry in zip(dirs, plan["include"], strict=True):
        record = json.loads((shard_dir / "run.json").read_text())
        assert record["shard"] == entry["shard"]
        assert [s["name"] for s in record["stages"]] == entry["stages"]
    merged = workflow(tmp_path, "merge", *map(str, dirs))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    record = merged_record(merged.stdout)
    single = workflow(tmp_path, "run", "--lane", "heavy", "--no-history", "--format", "json")
    assert single.returncode == 0
    single_record = merged_record(single.stdout)
    assert [s["name"] for s in record["stages"]] == [s["name"] for s in single_record["stages"]]
    assert [s["shard"] for s in record["shards"]] == ["1/3", "2/3", "3/3"]
    assert all(s["worker"].split()[0] in {"1/3", "2/3", "3/3"} for s in record["stages"])
    longest = max(s["duration_s"] for s in record["shards"])
    assert record["pool"]["total_duration_s"] == round(longest, 4)
    for name in ("report.html", "report.md", "junit.xml"):
        assert (Path(merged.stdout.split("reports: ")[1].strip()) / name).is_file()
    # the shards read the history but only the merge records: one entry for the whole run
    history = json.loads(workflow(tmp_path, "history", "--json").stdout)
    assert [run["run_id"] for run in history] == [record["run_id"]]


def test_a_failed_shard_makes_the_merge_exit_1_and_name_the_failure(tmp_path: Path) -> None:
    write_project(tmp_path, failing="unit")
    _, dirs = run_matrix(tmp_path, 2)
    merged = workflow(tmp_path, "merge", *map(str, dirs))
    assert merged.returncode == 1
    assert "failed: unit (failed)" in merged.stderr
    record = merged_record(merged.stdout)
    codes = {s["shard"]: s["exit_code"] for s in record["shards"]}
    assert sorted(codes.values()) == [0, 1]
    assert record["exit_code"] == 1


def test_a_missing_shard_counts_as_failed_and_a_foreign_record_is_refused(
    tmp_path: Path,
) -> None:
    write_project(tmp_path)
    _, dirs = run_matrix(tmp_path, 2)
    merged = workflow(tmp_path, "merge", str(dirs[0]))
    assert merged.returncode == 1
    assert "shard 2/2: no record given (counted as failed)" in merged.stdout
    twice = workflow(tmp_path, "merge", str(dirs[0]), str(dirs[0] / "run.json"))
    assert twice.returncode == 2
    assert "shard 1/2 is already given by" in twice.stderr
    plain = workflow(tmp_path, "run", "--lane", "heavy", "--report-dir", "plain")
    assert plain.returncode == 0
    refused = workflow(tmp_path, "merge", *map(str, (tmp_path / "plain").iterdir()))
    assert refused.returncode == 2
    assert "not a shard's record" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_plan_follows_history(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = workflow(tmp_path, "run", "--lane", "heavy", "--report-dir", "seed", "--no-history")
    assert run.returncode == 0
    record_path = next((tmp_path / "seed").iterdir()) / "run.json"
    data = json.loads(record_path.read_text())
    # Make "unit" the long stage in the recorded history: 100 s against 1 s for the rest.
    for index in range(3):
        for stage in data["stages"]:
            stage["duration_s"] = 100.0 if stage["name"] == "unit" else 1.0
        data["run_id"] = f"seed-{index}"
        data["started_at"] = f"2026-11-0{index + 1}T10:00:00+00:00"
        record_path.write_text(json.dumps(data))
        assert workflow(tmp_path, "history", "import", str(record_path)).returncode == 0
    planned = workflow(tmp_path, "shard", "plan", "--shards", "2", "--lane", "heavy", "--json")
    shards = json.loads(planned.stdout)["include"]
    assert shards[0]["stages"] == ["unit"]
    assert shards[0]["predicted_s"] == 100.0
    assert shards[1]["stages"] == ["lint", "types", "integration", "security"]
    again = workflow(tmp_path, "run", "--shard", "1/2", "--lane", "heavy", "--format", "json")
    assert "1 stage," in again.stdout
    assert "unit" in again.stdout


def test_a_plan_naming_an_unknown_stage_or_a_bad_shard_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    write_project(tmp_path)
    plan = {"include": [{"shard": "1/1", "lane": "heavy", "stages": ["nope"], "predicted_s": 1}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = workflow(tmp_path, "run", "--shard", "1/1", "--plan", "plan.json")
    assert result.returncode == 2
    assert result.stderr.startswith("workflow: --plan: no stage named 'nope'")
    for args, expected in [
        (("--shard", "3/2"), '--shard: expected "K/N"'),
        (("--shard", "1/2", "--plan", "missing.json"), "--plan: cannot read missing.json"),
        (("--plan", "plan.json"), "--plan: only with --shard K/N."),
        (("--shard", "1/2", "--only", "lint"), "--shard: cannot be combined with --only"),
    ]:
        result = workflow(tmp_path, "run", "--lane", "heavy", *args)
        assert result.returncode == 2, args
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / ".workflow").exists()  # nothing ran, nothing was written


def test_a_shard_is_one_library_call_as_the_command_makes_it(tmp_path: Path) -> None:
    # The library's run_workflow applies `shard` itself: the same stages as the command's
    # shard, the plan's identity in the record, and a shard of nothing writes its record.
    write_project(tmp_path)
    planned = workflow(tmp_path, "shard", "plan", "--shards", "2", "--lane", "heavy", "--json")
    assert planned.returncode == 0, planned.stderr
    (tmp_path / "plan.json").write_text(planned.stdout)
    entries = {e["shard"]: e["stages"] for e in json.loads(planned.stdout)["include"]}
    chosen: list[ShardChosen] = []
    options = RunOptions(
        cwd=tmp_path,
        lane=Lane.HEAVY,
        shard="2/2",
        shard_plan_file=tmp_path / "plan.json",
        report_dir=tmp_path / "library",
        formats=("json",),
        history=False,
    )
    result = run_workflow(
        options, lambda e: chosen.append(e) if isinstance(e, ShardChosen) else None
    )
    assert result.exit_code == 0 and result.record is not None
    assert sorted(s.name for s in result.record.stages) == sorted(entries["2/2"])
    assert result.record.shard == "2/2" and result.record.shard_plan is not None
    assert [(c.shard, sorted(c.stages)) for c in chosen] == [("2/2", sorted(entries["2/2"]))]
