"""Shadow mode on workflow's own unit stage, replayed over real commits of its history.

This repository is cloned into bench/.work/select/replay; its unit stage
(`pytest tests/unit`, with the clone first on PYTHONPATH, so each commit's tests test
that commit's code) runs with `select = "shadow"` on each of the last N first-parent
commits of `main`, oldest first, from one history: the first commit learns the map,
every later one runs every test and records what `affected` would have run, and
whether a test it would have skipped failed (an escape). The workflow that runs the
stage and decides is this checkout's (the code the bench measures), not the replayed
commit's: a commit older than selection does not know `select`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
INNER_ENV = ("WORKFLOW_SELECT", "WORKFLOW_SELECT_CHILD", "WORKFLOW_SELECT_CONTEXT")


@dataclass(frozen=True)
class Replayed:
    """One commit's shadow run: what affected would have run of the total, the escapes,
    the reason, how many tests failed in the full run, the stage's seconds."""

    commit: str
    subject: str
    would_run: int
    total: int
    escapes: tuple[str, ...]
    reason: str
    failed: int
    seconds: float


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def source_ref(ref: str = "main") -> str:
    """The full name of `ref` in this repository: its branch, or `origin/REF` in a
    clone that has no branch of that name."""
    known = subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=REPO, check=False)
    ref = ref if known.returncode == 0 else f"origin/{ref}"
    return _git(REPO, "rev-parse", "--symbolic-full-name", ref)


def commits(count: int, ref: str = "main") -> list[tuple[str, str]]:
    """(sha, subject) of the last `count` first-parent commits of `ref` (see
    `source_ref`), oldest first."""
    lines = _git(REPO, "log", "--first-parent", f"-{count}", "--format=%H %s", source_ref(ref))
    pairs = [(line[:40], line[41:]) for line in lines.splitlines() if line]
    return [(sha, subject) for sha, subject in reversed(pairs)]


def _config(work: Path, clone: Path) -> Path:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"]
    text = "\n".join(
        [
            "[workflow]",
            f"history = {json.dumps(str(work / 'history.db'))}",
            f"reports = {json.dumps(str(work / 'reports'))}",
            'cache = ""',
            "",
            "[stages.unit]",
            "number = 4",
            f"cwd = {json.dumps(str(clone))}",
            f"run = {json.dumps(argv)}",
            'select = "shadow"',
            "timeout = 1800",
            f"env = {{ PYTHONPATH = {json.dumps(str(clone))} }}",
            "",
        ]
    )
    path = work / "workflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def replay(work: Path, count: int, ref: str = "main") -> list[Replayed]:
    """Shadow runs of the unit stage on the last `count` commits of `ref`."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(clone)], check=True)
    # A clone has this repository's branches, not its remote-tracking refs: fetch the
    # replayed one by its full name.
    _git(clone, "fetch", "-q", str(REPO), f"+{source_ref(ref)}:refs/replayed")
    config = _config(work, clone)
    env = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
    # This checkout's workflow decides (-P: the clone, the working directory, does not
    # come first on sys.path); the stage's own PYTHONPATH makes each commit's tests
    # import that commit's code.
    known = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *([known] if known else [])])
    found = []
    for sha, subject in commits(count, ref):
        _git(clone, "checkout", "-q", "--detach", sha)
        argv = [sys.executable, "-P", "-m", "orchestrator", "run", "--config", str(config)]
        argv += ["--lane", "heavy", "--format", "json"]
        before = len(list((work / "reports").glob("*/run.json")))
        done = subprocess.run(
            argv, cwd=clone, env={**env, "CI": "true"}, capture_output=True, text=True, check=False
        )
        if len(list((work / "reports").glob("*/run.json"))) == before:
            raise SystemExit(
                f"bench: workflow run on {sha[:10]} left no record (exit {done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        found.append(_read(work, sha, subject))
    return found


def _read(work: Path, sha: str, subject: str) -> Replayed:
    record: dict[str, Any] = json.loads(
        sorted((work / "reports").glob("*/run.json"))[-1].read_text()
    )
    stage = next(s for s in record["stages"] if s["name"] == "unit")
    tests = stage.get("tests") or {}
    selection = tests.get("selection") or {}
    return Replayed(
        commit=sha[:10],
        subject=subject[:60],
        would_run=int(selection.get("selected", 0)),
        total=int(selection.get("total", tests.get("total", 0))),
        escapes=tuple(selection.get("escapes", ())),
        reason=str(selection.get("reason", "(no selection recorded)")),
        failed=int(tests.get("failed", 0)) + int(tests.get("errors", 0)),
        seconds=float(stage.get("duration_s", 0.0)),
    )
