"""Real git repositories for the lane tests.

Every repository is made in tmp_path with real commits; a bare repository stands in for
the remote. Git's global and system configuration are kept out, so a developer's
`core.hooksPath` or diff driver cannot change what the tests see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from orchestrator.model.config import DetectConfig

DETECT = DetectConfig()
ZERO = "0" * 40
INITIAL_FILES = {
    "README.md": "# project\n",
    "docs/index.md": "Welcome.\n",
    "src/app.py": "print('app')\n",
    "pyproject.toml": "[project]\nname = 'x'\n",
    ".gitignore": ".workflow/\n",
}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git in tests: no global or system configuration."""
    env = {
        name: value
        for name, value in os.environ.items()
        # a CI run's own GitHub event, hook variables or git location must not leak in
        if not name.startswith(("GITHUB_", "WORKFLOW_", "GIT_DIR", "GIT_WORK_TREE"))
    }
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return {**env, **(extra or {})}


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git, fail the test on error, return its output."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout.strip()


def workflow(
    cwd: Path, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `workflow` command, as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=git_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


class Repo:
    """A work tree with helpers to write files and commit them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return git(self.path, *args, env=env)

    def write(self, files: Mapping[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, files: Mapping[str, str] | None = None, message: str = "change") -> str:
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.sha()

    def sha(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}")


def init_repo(path: Path, files: Mapping[str, str] | None = None) -> Repo:
    """A new repository on `main` with one commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    repo = Repo(path)
    repo.commit(INITIAL_FILES if files is None else files, "initial")
    return repo


def remote_and_clone(tmp_path: Path) -> tuple[Path, Repo]:
    """A bare `origin.git` holding `main`, and a clone of it (origin/HEAD set)."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = init_repo(tmp_path / "seed")
    seed.git("push", "-q", str(bare), "main")
    git(tmp_path, "clone", "-q", str(bare), "work")
    return bare, Repo(tmp_path / "work")


STAND_IN = '''\
"""Stands in for `workflow` in the hook: records its call, then runs `workflow lane`."""
import json, os, subprocess, sys
from pathlib import Path

record = Path({record!r})
pushed = sys.stdin.read()
with (record.parent / "calls.log").open("a") as log:
    log.write("workflow\\n")
done = subprocess.run(
    [sys.executable, "-m", "orchestrator", "lane", "--pre-push", "--json"],
    input=pushed, capture_output=True, text=True, check=False,
)
record.write_text(json.dumps({{
    "argv": sys.argv[1:],
    "stdin": pushed,
    "cwd": os.getcwd(),
    "remote": os.environ.get("WORKFLOW_PRE_PUSH_REMOTE"),
    "stderr": done.stderr,
    "decision": json.loads(done.stdout) if done.returncode == 0 else None,
}}))
sys.exit(done.returncode)
'''


def lane_stand_in(directory: Path) -> tuple[list[str], Path]:
    """A hook command that runs the real `workflow lane --pre-push` and records the call."""
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / "hook-call.json"
    script = directory / "stand_in.py"
    script.write_text(STAND_IN.format(record=str(record)))
    return [sys.executable, str(script)], record


def push_env(**extra: str) -> dict[str, str]:
    """A PATH that has git and the basic tools but not this virtualenv."""
    git_dir = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    return {"PATH": git_dir, **extra}


def push(repo: Repo, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`git push` for real, from a shell whose PATH does not know `workflow`."""
    return subprocess.run(
        ["git", "push", *args],
        cwd=repo.path,
        env=git_env(push_env(**extra)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
