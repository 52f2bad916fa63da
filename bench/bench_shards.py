"""Shards on the real workload: planned sizes from history, then the shards run here.

    python bench/bench_shards.py [--shards 2,3,4] [--json PATH]

Builds the real workload (bench/runners.py: a project's source distribution from PyPI
and its five quality stages), records one `workflow run --lane heavy` into a fresh
history, then for each N plans N shards from that history (the planned sizes, max/min),
runs the shards one after another with the plan file, merges them, and prints each
shard's measured wall time (max/min) and whether the merged record's stages equal the
single run's. Whole stages only: a lane whose longest stage outweighs the rest cannot
be balanced until that stage is split.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.runners import real_workload  # noqa: E402 - the bench package lives beside this file


def workflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m orchestrator ARGS` in `cwd`, output captured."""
    argv = [sys.executable, "-m", "orchestrator", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def reports_of(output: str) -> Path:
    """The run directory that a command's `reports:` line names."""
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    return Path(line.removeprefix("reports: "))


def write_config(root: Path, stages: list[tuple[str, list[str], Path]]) -> None:
    """A workflow.toml with history on, the workload's stages in order."""
    lines = ["[workflow]", 'history = "history.db"', 'reports = "reports"']
    for number, (name, argv, cwd) in enumerate(stages, start=2):
        lines += [f"[stages.{name}]", f"number = {number}", f"cwd = {json.dumps(str(cwd))}"]
        lines.append(f"run = {json.dumps(argv)}")
    (root / "workflow.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def one_n(root: Path, total: int, single: list[str]) -> dict[str, Any]:
    """Plan N shards, run them one after another, merge; the figures."""
    planned = workflow(root, "shard", "plan", "--shards", str(total), "--lane", "heavy", "--json")
    plan = json.loads(planned.stdout)
    plan_file = root / f"plan-{total}.json"
    plan_file.write_text(planned.stdout, encoding="utf-8")
    sizes = [entry["predicted_s"] for entry in plan["include"]]
    dirs, walls = [], []
    for entry in plan["include"]:
        out = root / f"shards-{total}" / entry["shard"].replace("/", "-")
        args = ("run", "--shard", entry["shard"], "--plan", str(plan_file), "--lane", "heavy")
        run = workflow(root, *args, "--report-dir", str(out), "--no-history")
        run_dir = reports_of(run.stdout)
        dirs.append(str(run_dir))
        walls.append(json.loads((run_dir / "run.json").read_text())["pool"]["total_duration_s"])
    merged = workflow(root, "merge", *dirs, "--report-dir", str(root / f"merged-{total}"))
    record = json.loads((reports_of(merged.stdout) / "run.json").read_text())
    names = [stage["name"] for stage in record["stages"]]
    return {
        "shards": total,
        "plan": [(e["shard"], e["stages"], e["predicted_s"]) for e in plan["include"]],
        "planned_max_over_min": max(sizes) / min(sizes) if min(sizes) > 0 else None,
        "measured_wall_s": walls,
        "measured_max_over_min": max(walls) / min(walls) if min(walls) > 0 else None,
        "merge_exit": merged.returncode,
        "merged_stages_equal_single": names == single,
    }


def main() -> int:
    """Run the benchmark; print one JSON object per N."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", default="2,3,4")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        root = Path(tmp)
        workload = real_workload(root / "src")
        write_config(root, [(s.name, list(s.argv), s.cwd) for s in workload.stages])
        seeded = workflow(root, "run", "--lane", "heavy")
        first = json.loads((reports_of(seeded.stdout) / "run.json").read_text())
        single = [stage["name"] for stage in first["stages"]]
        durations = {stage["name"]: stage["duration_s"] for stage in first["stages"]}
        print(json.dumps({"single_run": durations, "wall_s": first["pool"]["total_duration_s"]}))
        results = []
        for total in (int(n) for n in options.shards.split(",")):
            result = one_n(root, total, single)
            results.append(result)
            print(json.dumps(result))
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
