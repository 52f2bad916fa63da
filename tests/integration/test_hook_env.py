"""Stages never see git's hook environment: a test that makes its own repository leaves
the user's alone.

Pushing from a linked worktree, git exports GIT_DIR (the worktree's git directory) and
GIT_PREFIX to the hook; `git -c ... push` adds GIT_CONFIG_PARAMETERS. A stage that
inherited them and ran `git init "$tmp"` and `git -C "$tmp" commit` would commit onto the
pushed branch and write `core.bare = true` into the user's repository (lefthook#1265).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.model.gitenv import is_hook_variable
from tests.helpers.lanes_repo import (
    Repo,
    git_env,
    push_env,
    remote_and_clone,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

# What a test suite that builds a throwaway repository does, and what it saw of git.
THROWAWAY = """\
import json, os, subprocess, sys, tempfile
seen = {name: value for name, value in os.environ.items() if name.startswith("GIT_")}
scratch = tempfile.mkdtemp(dir=os.environ["SCRATCH"])
subprocess.run(["git", "init", "-q", scratch], check=True)
subprocess.run(["git", "-C", scratch, "commit", "-q", "--allow-empty", "-m", "scratch"],
               check=True)
made = subprocess.run(["git", "-C", scratch, "rev-list", "--count", "HEAD"],
                      capture_output=True, text=True, check=True).stdout.strip()
with open(os.environ["SEEN"], "w") as out:
    json.dump({"git_env": seen, "scratch_commits": made}, out)
"""


def test_a_stage_that_makes_its_own_repository_leaves_the_users_alone(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    suite = json.dumps([sys.executable, "suite.py"])
    config = f'[workflow]\nhistory = ""\n[stages.suite]\nrun = {suite}\n'
    work.commit({"workflow.toml": config, "suite.py": THROWAWAY}, "suite")
    work.git("push", "-q", "origin", "main")
    assert workflow(work.path, "install-hook").returncode == 0
    side = Repo(tmp_path / "side")
    work.git("worktree", "add", "-q", "-b", "side", str(side.path))
    pushed = side.commit({"src/app.py": "print('side')\n"}, "on the side")
    main_head = work.sha("main")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen = tmp_path / "seen.json"
    env = git_env(push_env(SCRATCH=str(scratch), SEEN=str(seen)))
    done = subprocess.run(
        ["git", "-c", "user.useConfigOnly=false", "push", "origin", "side"],
        cwd=side.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    saw = json.loads(seen.read_text())
    assert saw["scratch_commits"] == "1"  # the stage's commit went into its own repository
    # git gave the hook GIT_DIR and GIT_PREFIX (GIT_CONFIG_PARAMETERS for `-c`): none
    # reached the stage; the user's own settings for git did.
    assert [name for name in saw["git_env"] if is_hook_variable(name)] == []
    assert saw["git_env"]["GIT_AUTHOR_NAME"] == "workflow tests"
    # The user's repository is as it was: not bare, its branches where they were.
    assert work.git("config", "--bool", "core.bare") == "false"
    assert side.git("config", "--bool", "core.bare") == "false"
    assert side.sha("side") == pushed
    assert work.sha("main") == main_head
    assert side.git("status", "--porcelain") == ""
