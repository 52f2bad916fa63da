"""Benchmark test selection: does `select = "affected"` run every test a change can fail?

    python bench/bench_select.py [--mutants N] [--seed S] [--learn-runs N]
        [--commits N] [--only mutants,special,learning,floor,scale,history] [--json PATH]

1. Mutants (bench/select_mutants.py) of more-itertools 10.7.0 (bench/select_project.py):
   for each, the full suite (`full.toml`, every test, no history) says which tests fail
   (the truth), then `workflow run` with `select = "affected"` from the same learned map
   runs what selection picks. An escape is a test the full suite fails that the selected
   run did not fail (must be 0); a false failure a test the selected run fails that the
   full suite passes (must be 0). A discrepancy is checked again (`recheck`): a test whose
   outcome changes from run to run of the same code is reported as stochastic, not as a
   verdict on selection. Reported: both, the median share of tests run on
   function-body mutants (aim: at most 25%), and the median of each mutant's selected
   stage wall over its full stage wall (aim: at most 0.3x). A mutant whose full suite
   cannot finish (an endless loop in C, beyond the per-test timeout) has no truth: it is
   listed as excluded.
2. Special changes, judged the same way: a data file a test reads, a `conftest.py`,
   pytest's configuration, a distribution upgraded with pip, a new test file, a renamed
   test, and a mutant of the function a test runs in a subprocess.
3. The cost of learning: the stage run in full with `select = "affected"` learning
   (`--select all`) against the same stage without selection, alternating, medians of
   N (aim: at most 1.3x); and the floor no selected run can go under: pytest's start
   and collection of the whole suite (`--collect-only`) against the full stage.
4. Scale (bench/select_scale.py): the decision for 5,000 tests (aim: under 150 ms) and
   the map of 10,000 tests in the history (aim: under 100 MB).
5. Shadow mode on this repository's unit stage over its last N commits of `main`
   (bench/select_history.py): escapes (must be 0) and the share that would have run.

Exits 1 when an escape or a false failure is found (the selection is then wrong).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.select_history import replay
from bench.select_mutants import KINDS, Mutant, choose, mutants_of
from bench.select_project import SOURCES, UPGRADE, Project, StageRun
from bench.select_scale import decision_seconds, stored_map

SHARE_AIM = 0.25
WALL_AIM = 0.3
LEARN_AIM = 1.3
DECISION_AIM_S = 0.150
MAP_AIM_BYTES = 100 * 1024 * 1024
SECTIONS = ("mutants", "special", "learning", "floor", "scale", "history")


def judge(name: str, kind: str, truth: StageRun, chosen: StageRun) -> dict[str, Any]:
    """One change's verdict: escapes, false failures, the share run, the walls."""
    selection = chosen.selection
    total = int(selection.get("total") or len(truth.ran) or 1)
    row = {
        "change": name,
        "kind": kind,
        "failing": len(truth.failed),
        "escapes": sorted(truth.failed - chosen.failed),
        "false_failures": sorted(chosen.failed - truth.failed),
        "ran": len(chosen.ran),
        "total": total,
        "share": len(chosen.ran) / total,
        "full_stage_s": truth.stage_s,
        "selected_stage_s": chosen.stage_s,
        "full_wall_s": truth.wall_s,
        "selected_wall_s": chosen.wall_s,
        "reason": selection.get("reason", ""),
    }
    mark = "ESCAPE" if row["escapes"] else "FALSE FAILURE" if row["false_failures"] else "ok"
    print(
        f"  {mark:13} ran {row['ran']:4}/{total} ({row['share']:6.1%}), "
        f"{truth.stage_s:5.1f}s -> {chosen.stage_s:5.1f}s, "
        f"{row['failing']:3} failing  {name}  [{row['reason'][:70]}]",
        flush=True,
    )
    return row


def trial(
    project: Project, learned: Path, name: str, kind: str, change: Callable[[], Callable[[], None]]
) -> dict[str, Any]:
    """Make a change, run the truth and the selection from the learned map, undo it."""
    undo = change()
    try:
        truth = project.run("full.toml", "--no-history")
        chosen = None
        if truth.finished:
            project.restore_map(learned)
            chosen = project.run("workflow.toml")
            row = judge(name, kind, truth, chosen)
            if row["escapes"] or row["false_failures"]:
                row["stochastic"] = recheck(project, learned, row)
    finally:
        undo()
    if chosen is None:
        print(f"  EXCLUDED      the full suite did not finish in its timeout  {name}", flush=True)
        row = {"change": name, "kind": kind, "excluded": "the full suite did not finish"}
    return row


def keep(project: Project, row: dict[str, Any]) -> dict[str, Any]:
    """Each verdict written to rows.jsonl as it comes, for `--resume`."""
    with (project.work / "rows.jsonl").open("a", encoding="utf-8") as rows:
        rows.write(json.dumps(row) + "\n")
    return row


RECHECKS = 3


def recheck(project: Project, learned: Path, row: dict[str, Any]) -> list[str]:
    """The discrepant tests whose outcome changes from run to run of the same code (a
    stochastic test, or one that depends on the state earlier tests leave): the full
    suite and the selected run again, RECHECKS times each. A test the full suite fails in
    one of its runs is no false failure of selection; one the selected run fails in one
    of its runs no escape. Anything left is a real verdict."""
    suspects = set(row["false_failures"]) | set(row["escapes"])
    seen_failing_full: set[str] = set()
    seen_failing_selected: set[str] = set()
    for _ in range(RECHECKS):
        seen_failing_full |= project.run("full.toml", "--no-history").failed & suspects
        project.restore_map(learned)
        seen_failing_selected |= project.run("workflow.toml").failed & suspects
    flips = sorted(
        {t for t in row["false_failures"] if t in seen_failing_full}
        | {t for t in row["escapes"] if t in seen_failing_selected}
    )
    row["false_failures"] = sorted(set(row["false_failures"]) - set(flips))
    row["escapes"] = sorted(set(row["escapes"]) - set(flips))
    print(f"  rechecked: outcome changes from run to run: {', '.join(flips) or 'none'}", flush=True)
    return flips


def mutant_change(project: Project, mutant: Mutant) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        before = mutant.apply(project.root)
        return lambda: mutant.revert(project.root, before)

    return apply


def edit_change(
    project: Project, path: str, old: str, new: str
) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        target = project.root / path
        before = target.read_text() if target.exists() else None
        text = before or ""
        target.write_text(text.replace(old, new, 1) if old else text + new)

        def undo() -> None:
            if before is None:
                target.unlink()
            else:
                target.write_text(before)

        return undo

    return apply


def upgrade_change(project: Project) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        project.install(UPGRADE[2])
        return lambda: project.install(UPGRADE[1])

    return apply


def special_changes(project: Project) -> list[tuple[str, Callable[[], Callable[[], None]]]]:
    """The changes the issue lists besides mutants, each with how to make and undo it."""
    renamed = ("def test_basic(self):", "def test_basic_renamed(self):")
    chunked = "iterator = iter(partial(take, n, iter(iterable)), [])"
    return [
        ("a data file a test reads", edit_change(project, "tests/bench_data.json", "[3]", "[4]")),
        ("a conftest.py", edit_change(project, "tests/conftest.py", "[1, 2, 3]", "[1, 2, 4]")),
        (
            "pytest's configuration",
            edit_change(
                project,
                "pyproject.toml",
                'testpaths = ["tests"]',
                'testpaths = ["tests"]\nxfail_strict = true',
            ),
        ),
        (f"{UPGRADE[0]} upgraded with pip", upgrade_change(project)),
        (
            "a new test file",
            edit_change(
                project, "tests/test_bench_new.py", "", "def test_new():\n    assert False\n"
            ),
        ),
        ("a renamed test", edit_change(project, "tests/test_more.py", *renamed)),
        (
            "a function a subprocess runs",
            edit_change(
                project, "more_itertools/more.py", chunked, chunked.replace("n, ", "n + 1, ")
            ),
        ),
    ]


def learn(project: Project, *, resume: bool = False) -> Path:
    """The first run (no map: every test runs and is learned); a copy of its map.
    `resume`: the verdicts already in rows.jsonl are kept (`done`)."""
    project.prepare()
    if not resume:
        (project.work / "rows.jsonl").unlink(missing_ok=True)
    first = project.run("workflow.toml")
    print(
        f"learned: {first.selection.get('reason')} ({len(first.ran)} tests, {first.stage_s:.1f}s)"
    )
    copy = project.work / "learned.db"
    project.keep_map(copy)
    return copy


def summarize_changes(every: list[dict[str, Any]]) -> dict[str, Any]:
    """Escapes, false failures, the share and wall medians (function-body mutants)."""
    rows = [r for r in every if "excluded" not in r]
    body = [r for r in rows if r["kind"] == "function body"]
    ratios = [r["selected_stage_s"] / r["full_stage_s"] for r in body if r["full_stage_s"] > 0]
    walls = [r["selected_wall_s"] / r["full_wall_s"] for r in body if r["full_wall_s"] > 0]
    return {
        "changes": len(rows),
        "excluded": [r["change"] for r in every if "excluded" in r],
        "by_kind": {k: sum(1 for r in rows if r["kind"] == k) for k in {r["kind"] for r in rows}},
        "failing_changes": sum(1 for r in rows if r["failing"]),
        "escapes": sum(len(r["escapes"]) for r in rows),
        "false_failures": sum(len(r["false_failures"]) for r in rows),
        "stochastic": [t for r in rows for t in r.get("stochastic", ())],
        "median_share_function_body": statistics.median([r["share"] for r in body])
        if body
        else None,
        "median_stage_ratio_function_body": statistics.median(ratios) if ratios else None,
        "median_wall_ratio_function_body": statistics.median(walls) if walls else None,
    }


def floor(project: Project, runs: int) -> dict[str, Any]:
    """What any run of this stage pays before its first test: pytest's start and the
    collection of every test (`--collect-only`), against the full run; a selected run's
    wall cannot go under it."""
    collecting, full = [], []
    for _ in range(runs):
        collecting.append(project.collect_only())
        full.append(project.run("full.toml", "--no-history").stage_s)
    ratio = statistics.median(collecting) / statistics.median(full)
    print(
        f"floor: pytest's start and collection {statistics.median(collecting):.2f}s, the full "
        f"stage {statistics.median(full):.2f}s: no selected run is under {ratio:.2f}x"
    )
    # What deciding costs before the first stage starts: a dry run that selects (the
    # work tree read, the map read, the fingerprints, the decision) against one that
    # does not.
    deciding = [project.dry_run("workflow.toml") for _ in range(runs)]
    plain = [project.dry_run("full.toml") for _ in range(runs)]
    added = statistics.median(deciding) - statistics.median(plain)
    print(f"deciding before the first stage: +{added * 1000:.0f} ms (a dry run's wall)")
    return {
        "collect_s": collecting,
        "full_s": full,
        "ratio": ratio,
        "dry_run_selecting_s": deciding,
        "dry_run_plain_s": plain,
        "deciding_s": added,
    }


def learning_cost(project: Project, learned: Path, runs: int) -> dict[str, Any]:
    """Full runs with and without learning, alternating: medians and their ratio."""
    plain, learning = [], []
    for _ in range(runs):
        plain.append(project.run("full.toml", "--no-history").stage_s)
        project.restore_map(learned)
        learning.append(project.run("workflow.toml", "--select", "all").stage_s)
    ratio = statistics.median(learning) / statistics.median(plain)
    print(
        f"learning: plain {statistics.median(plain):.2f}s (min {min(plain):.2f}), learning "
        f"{statistics.median(learning):.2f}s (min {min(learning):.2f}): {ratio:.2f}x "
        f"(aim {LEARN_AIM}x)"
    )
    return {"plain_s": plain, "learning_s": learning, "ratio": ratio}


def done(project: Project, chosen: list[Mutant]) -> dict[str, dict[str, Any]]:
    """Verdicts an earlier, interrupted run of the bench kept (mutant key -> row). Two
    mutants can share a label (the same edit twice on one line): a row is found by its
    key, or by its label alone only when no other chosen mutant has that label."""
    path = project.work / "rows.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    labels = [m.label for m in chosen]
    unique = {m.label: m.key for m in chosen if labels.count(m.label) == 1}
    kept = {row["key"]: row for row in rows if "key" in row}
    for row in rows:
        if "key" not in row and row["change"] in unique:
            kept.setdefault(unique[row["change"]], row)
    return kept


def changes(
    project: Project, learned: Path, sections: set[str], args: argparse.Namespace
) -> dict[str, Any]:
    """The mutants and the special changes, each judged against the full suite."""
    rows: list[dict[str, Any]] = []
    if "mutants" in sections:
        every = [m for source in SOURCES for m in mutants_of(project.root, source)]
        chosen = choose(every, args.mutants, args.seed)
        print(f"mutants: {len(chosen)} of {len(every)} ({', '.join(KINDS)})")
        kept = done(project, chosen)
        for mutant in chosen:
            if mutant.key in kept:
                rows.append(kept[mutant.key])
                continue
            change = mutant_change(project, mutant)
            row = trial(project, learned, mutant.label, mutant.kind, change)
            rows.append(keep(project, {**row, "key": mutant.key}))
    if "special" in sections:
        print("special changes:")
        for name, change in special_changes(project):
            rows.append(keep(project, trial(project, learned, name, "special", change)))
    if not rows:
        return {}
    summary = summarize_changes(rows)
    print(json.dumps(summary, indent=2))
    return {"changes": summary, "rows": rows}


def scale() -> dict[str, Any]:
    """The decision for 5,000 tests and the stored map of 10,000."""
    seconds, running = decision_seconds(5_000)
    size, saved, read = stored_map(10_000)
    print(
        f"scale: decision for 5,000 tests {seconds * 1000:.1f} ms "
        f"(aim {DECISION_AIM_S * 1000:.0f} ms); map of 10,000 tests {size / 1e6:.1f} MB "
        f"(aim 100 MB), saved in {saved:.2f}s, read in {read:.2f}s"
    )
    return {
        "decision_5000_s": seconds,
        "ran": running,
        "map_10000_bytes": size,
        "save_s": saved,
        "read_s": read,
    }


def history(project: Project, commits: int) -> dict[str, Any]:
    """Shadow mode on this repository's unit stage over its last commits."""
    replayed = replay(project.work / "replay", commits)
    shares = [r.would_run / r.total for r in replayed[1:] if r.total]
    for r in replayed:
        print(
            f"  {r.commit} {r.would_run:4}/{r.total:4} escapes {len(r.escapes)} "
            f"failed {r.failed} {r.seconds:6.1f}s  {r.subject}  [{r.reason[:60]}]"
        )
    found = {
        "commits": [r.__dict__ for r in replayed],
        "escapes": sum(len(r.escapes) for r in replayed),
        "median_share": statistics.median(shares) if shares else None,
    }
    print(f"history: escapes {found['escapes']}, median share {found['median_share']}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections; 1 when selection missed a failing test or made one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--learn-runs", type=int, default=5)
    parser.add_argument("--commits", type=int, default=8)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--resume", action="store_true", help="keep the verdicts of rows.jsonl")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    results: dict[str, Any] = {}
    project = Project()
    if sections & {"mutants", "special", "learning", "floor"}:
        learned = learn(project, resume=args.resume)
        results.update(changes(project, learned, sections, args))
        if "learning" in sections:
            results["learning"] = learning_cost(project, learned, args.learn_runs)
        if "floor" in sections:
            results["floor"] = floor(project, args.learn_runs)
    if "scale" in sections:
        results["scale"] = scale()
    if "history" in sections:
        results["history"] = history(project, args.commits)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=list))
    found = results.get("changes", {})
    wrong = found.get("escapes", 0) + found.get("false_failures", 0)
    wrong += results.get("history", {}).get("escapes", 0)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
