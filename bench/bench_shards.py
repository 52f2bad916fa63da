"""Shards on a real workload: planned sizes from history, then the shards run here.

    python bench/bench_shards.py [--shards 2,3,4] [--workload real|split]
                                 [--split auto|N] [--json PATH] [--workdir DIR]

Builds a real workload from PyPI: `real` (bench/runners.py: sqlparse and its five
quality stages, whole stages only: its longest stage, pylint, cannot be split) or
`split` (bench/split_workload.py: networkx, whose longest stage is pytest, given `split =
auto` or `split = N` by `--split`). It records one `workflow run --lane heavy` into a
fresh history (with `split`, that run is pytest whole and records its tests), then for
each N plans N shards from that history (the planned sizes, max/min; a split stage's
parts are placed one by one, and `auto` cuts it for the cores of all N runners), runs
the shards one after another with the plan file, merges them, and prints each shard's
measured wall time (max/min) and whether the merged record's stages equal the single
run's. A shard can be no shorter than the longest piece of work it holds (a whole stage,
or a part, which keeps its test files whole).
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

from bench.model import Workload  # noqa: E402 - the bench package lives beside this file
from bench.runners import plain_env, real_workload  # noqa: E402 - as above
from bench.split_workload import SPLIT_STAGE, split_workload, warm_pytest  # noqa: E402 - as above


def workflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m orchestrator ARGS` in `cwd`, output captured."""
    argv = [sys.executable, "-m", "orchestrator", *args]
    env = plain_env()  # no inherited PYTHONDONTWRITEBYTECODE: pytest's rewrites stay cached
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def reports_of(output: str) -> Path:
    """The run directory that a command's `reports:` line names."""
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    return Path(line.removeprefix("reports: "))


def write_config(root: Path, workload: Workload, split: str | int | None) -> None:
    """A workflow.toml with history on, the workload's stages in order; `split` (if any)
    on the split workload's pytest stage."""
    lines = ["[workflow]", 'history = "history.db"', 'reports = "reports"']
    for number, stage in enumerate(workload.stages, start=2):
        lines += [f"[stages.{stage.name}]", f"number = {number}"]
        lines += [f"cwd = {json.dumps(str(stage.cwd))}", f"run = {json.dumps(list(stage.argv))}"]
        if split is not None and stage.name == SPLIT_STAGE:
            lines.append(f"split = {json.dumps(split)}")
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
    parser.add_argument("--workload", choices=("real", "split"), default="real")
    parser.add_argument("--split", default="auto", help="the split workload's pytest split")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, help="kept scratch directory (default: temp)")
    options = parser.parse_args()
    split: str | int | None = None
    if options.workload == "split":
        if options.split != "auto" and not (options.split.isdigit() and int(options.split) >= 1):
            parser.error(f'--split: expected "auto" or a number of parts, not {options.split!r}')
        split = "auto" if options.split == "auto" else int(options.split)
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        root = Path(tmp) if options.workdir is None else options.workdir.resolve()
        root.mkdir(parents=True, exist_ok=True)
        if split is None:
            workload = real_workload(root / "src")
        else:
            workload = split_workload(root / "src")
            warm_pytest(workload, plain_env())
        write_config(root, workload, split)
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
