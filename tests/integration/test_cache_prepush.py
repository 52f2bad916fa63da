"""A real pre-push hook with the cache: after a docs typo fix, a second push re-runs only
what the docs lane asks for and the cache has not already seen pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cache_repo import git, make_repo
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = json.dumps(sys.executable)


def _stage(name: str, number: int, inputs: str) -> str:
    code = json.dumps(
        f"import pathlib; p = pathlib.Path('build/{name}.runs'); p.parent.mkdir(exist_ok=True)"
        "; p.open('a').write('ran\\n'); print('checked')"
    )
    return f'[stages.{name}]\nnumber = {number}\nrun = [{PY}, "-c", {code}]\ninputs = {inputs}\n'


CONFIG = (
    '[lanes.docs]\nstages = ["lint", "docs"]\nstrategy = "thread"\n\n'
    + _stage("lint", 2, '["src/**", "tests/**"]')
    + _stage("docs", 3, '["docs/**", "*.md"]')
    + _stage("unit", 4, '["src/**", "tests/**"]')
)


def _runs(repo: Path, name: str) -> int:
    path = repo / "build" / f"{name}.runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def _push(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "-q", "origin", "main"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "CI": "true"},
    )


def test_a_docs_fix_pushed_again_reuses_what_passed(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo = make_repo(tmp_path / "work")
    (repo / "workflow.toml").write_text(CONFIG, encoding="utf-8")
    git(repo, "add", "workflow.toml")
    git(repo, "commit", "-q", "-m", "config")
    git(repo, "remote", "add", "origin", str(remote))
    assert workflow(repo, "install-hook").returncode == 0

    first = _push(repo)
    assert first.returncode == 0, first.stderr
    assert [_runs(repo, n) for n in ("lint", "docs", "unit")] == [1, 1, 1]

    guide = repo / "docs" / "guide.md"
    guide.write_text(guide.read_text().replace("How to add", "How to add up"))
    git(repo, "commit", "-q", "-am", "docs: typo")
    second = _push(repo)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    assert "docs lane" in output
    assert "lint: passed (cached) from run" in output  # reused, and it says so
    # docs ran again (its input changed); unit is not part of the docs lane.
    assert [_runs(repo, n) for n in ("lint", "docs", "unit")] == [1, 2, 1]
