"""Benchmark the pre-push hook: what deciding where each pushed commit is checked costs.

    python bench/bench_hook.py [--runs N] [--files N] [--compare DIR]

A repository of `--files` Python files (2,000 by default) and three stages that run
`true`, pushed once so the result cache holds their passes; then, in rounds whose order
rotates, the hook's own command (`workflow run --lane auto --pre-push`, the push's line
on its standard input, as git gives it) is timed from process start to exit:

- in place: the pushed commit is the checked-out HEAD and the work tree is clean: no
  worktree (the no-op path; target: at most 0.3 s);
- worktree: the pushed commit is another branch's (same content, so the stages are cache
  hits there too): a temporary worktree is checked out and removed (its cost is reported);
- plain: `workflow run --lane standard` on the same tree, the same cache hits, no hook
  logic: the difference to "in place" is what the hook's check adds.

`--compare DIR` times the in-place hook of another checkout of workflow (`python -m
orchestrator` with DIR first on PYTHONPATH) in the same rounds: the hook before a change.
Medians of the rounds, with min..max.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

IN_PLACE_TARGET_S = 0.3
CONFIG = """\
[workflow]
history = ""

[stages.lint]
run = ["true"]

[stages.types]
run = ["true"]

[stages.unit]
run = ["true"]
"""


def git(root: Path, *args: str) -> str:
    """Run git quietly in `root`; its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout.strip()


def repository(scratch: Path, files: int) -> tuple[Path, str, str]:
    """A clone with `files` files, its HEAD and a second branch's commit; both pushed
    once through the hook command, so the cache holds the stages' passes."""
    bare = scratch / "origin.git"
    git(scratch, "init", "-q", "--bare", "-b", "main", str(bare))
    work = scratch / "work"
    work.mkdir()
    for number in range(files):
        path = work / f"pkg{number % 40}" / f"module_{number}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"VALUE = {number}\n", encoding="utf-8")
    (work / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    (work / ".gitignore").write_text(".workflow/\n", encoding="utf-8")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "base")
    git(work, "remote", "add", "origin", str(bare))
    git(work, "push", "-q", "origin", "main")
    (work / "pkg0" / "module_0.py").write_text("VALUE = 'changed'\n", encoding="utf-8")
    git(work, "commit", "-qam", "change")
    head = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "-b", "other")
    git(work, "commit", "-q", "--allow-empty", "-m", "same tree, another commit")
    other = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "main")
    return work, head, other


def push_line(work: Path, sha: str, ref: str) -> str:
    """The line git gives the pre-push hook for pushing `sha` to `ref` on origin."""
    remote = git(work, "rev-parse", "origin/main")
    return f"refs/heads/{ref} {sha} refs/heads/{ref} {remote}\n"


def timed(argv: Sequence[str], work: Path, env: dict[str, str], stdin: str | None) -> float:
    """Wall seconds of one run, process start to exit; it must pass."""
    started = time.perf_counter()
    done = subprocess.run(
        list(argv), cwd=work, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return wall


def main(argv: Sequence[str] | None = None) -> int:
    """Time the hook's paths; print medians; exit 1 when the in-place path misses 0.3 s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--compare", type=Path, default=None)
    options = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-hook-"))
    try:
        work, head, other = repository(scratch, options.files)
        env = {**os.environ, "CI": "true", "WORKFLOW_PRE_PUSH_REMOTE": "origin"}
        hook = (sys.executable, "-m", "orchestrator", "run", "--lane", "auto", "--pre-push")
        plain = (sys.executable, "-m", "orchestrator", "run", "--lane", "standard")
        cases: dict[str, tuple[Sequence[str], dict[str, str], str | None]] = {
            "in place": (hook, env, push_line(work, head, "main")),
            "worktree": (hook, env, push_line(work, other, "other")),
            "plain run": (plain, env, None),
        }
        if options.compare is not None:
            before = {**env, "PYTHONPATH": str(options.compare.resolve())}
            cases["in place, --compare"] = (hook, before, push_line(work, head, "main"))
        for argv_, env_, stdin in cases.values():
            timed(argv_, work, env_, stdin)  # warm-up: fills the cache, compiles templates
        walls: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for round_ in range(options.runs):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                walls[name].append(timed(cases[name][0], work, cases[name][1], cases[name][2]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in walls.items()}
    for name, values in walls.items():
        print(
            f"{name:>22}: median {medians[name]:.3f}s "
            f"({min(values):.3f}..{max(values):.3f}) over {len(values)} rounds"
        )
    print(
        f"the hook's check adds {medians['in place'] - medians['plain run']:+.3f}s to a plain "
        f"run; a temporary worktree of {options.files} files adds "
        f"{medians['worktree'] - medians['in place']:+.3f}s (ratio "
        f"{medians['worktree'] / medians['in place']:.2f}); in place "
        f"{medians['in place']:.3f}s (target <= {IN_PLACE_TARGET_S}s)"
    )
    return 0 if medians["in place"] <= IN_PLACE_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
