"""Benchmark the gap between one stage's end and the next stage's start.

    python bench/bench_gap.py [--runs N] [--stages N] [--workers N] [--sleep S] [--json PATH]

A project of `--stages` stages (12) of `sleep --sleep` (0.2 s) on `--workers` process
workers (2) is run with `workflow run --lane heavy --no-cache --no-history`, so every
stage after the first wave waits for a worker. From each run's run.json, the gap of a
waiting stage is its start (`start_offset_s`) minus the latest end (`start_offset_s` +
`duration_s`) of the stages that ended before it started: the time the pool took to
notice a free worker and start the next process (recording the ended stage included).
Printed as the median and the 90th percentile over every gap of `--runs` runs (5) after
one warm-up run. The figures are the record's own clock (what a user reads in run.json),
not a stamp inside the stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPORT = ("--format", "json", "--report-dir")


def make_project(root: Path, stages: int, workers: int, sleep: float) -> None:
    """A git project of `stages` identical sleeping stages on `workers` workers."""
    body = [f"[lanes.heavy]\nstrategy = 'process'\nworkers = {workers}\n"]
    body += [f"[stages.s{i:02d}]\nkind = 'io'\nrun = ['sleep', '{sleep}']\n" for i in range(stages)]
    (root / "workflow.toml").write_text("\n".join(body), encoding="utf-8")
    (root / ".gitignore").write_text(".workflow/\nreports/\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "bench"]):
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=60,
        )


def gaps_of(record: dict[str, object]) -> list[float]:
    """The gaps (s) of the stages that waited for a worker, from one run record."""
    stages = record["stages"]
    if not isinstance(stages, list):
        raise SystemExit("bench_gap: a run record without a list of stages")
    spans = sorted((s["start_offset_s"], s["start_offset_s"] + s["duration_s"]) for s in stages)
    first = spans[0][0]
    gaps = []
    for start, _ in spans:
        ended = [end for _, end in spans if end <= start]
        if start - first > 0.05 and ended:
            gaps.append(start - max(ended))
    return gaps


def one_run(root: Path, workflow: Path) -> list[float]:
    """The gaps of one `workflow run`."""
    out = root / "reports"
    subprocess.run(
        [str(workflow), "run", "--lane", "heavy", "--no-cache", "--no-history", *REPORT, str(out)],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=300,
    )
    newest = max(out.glob("*/run.json"), key=lambda path: path.stat().st_mtime)
    return gaps_of(json.loads(newest.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stages", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sleep", type=float, default=0.2)
    parser.add_argument("--json", type=Path, default=None, help="also write every gap here")
    args = parser.parse_args(argv)
    workflow = Path(sys.executable).parent / "workflow"
    with tempfile.TemporaryDirectory(prefix="workflow-bench-gap-") as scratch:
        root = Path(scratch)
        make_project(root, args.stages, args.workers, args.sleep)
        one_run(root, workflow)
        gaps = [gap for _ in range(args.runs) for gap in one_run(root, workflow)]
    if not gaps:
        raise SystemExit("bench_gap: no stage waited for a worker")
    ordered = sorted(gaps)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    print(
        f"stage end -> next start: median {statistics.median(gaps) * 1000:.1f} ms, "
        f"p90 {p90 * 1000:.1f} ms over {len(gaps)} gaps of {args.runs} runs"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({"gaps_s": gaps}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
