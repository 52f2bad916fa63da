"""The one place that runs git: argv lists, no shell, no stdin, machine-readable output.

Infrastructure below the packages that ask git something: `lanes` (what changed, the
checkout) and `cache` (the work tree's snapshot) both run git through here, and neither
imports the other.

Every call passes `-c core.quotepath=false` and, for diffs, `--no-ext-diff -z`, so a
user's diff driver or pager never runs and unusual file names arrive intact (as
pre-commit's `git.py` does). Every call finds its repository from the directory it runs
in: the variables a git hook inherits that point elsewhere (`GIT_DIR` from a linked
worktree, `GIT_INDEX_FILE`) are dropped (`model/gitenv.py`). What the answers mean is
`lanes/git.py`'s.

When git refuses a repository that is there ("detected dubious ownership", a broken
config), that refusal is the reason, quoted, with git's own fix (`repository_problem`):
never "not a git checkout".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.model.errors import ExitCode, WorkflowError
from orchestrator.model.gitenv import without_location


class GitError(WorkflowError):
    """git is missing, or a git command failed where no fallback exists."""

    exit_code = ExitCode.USAGE


class GitMissing(GitError):
    """git is not installed (or not on PATH): nothing can be asked of it."""


@dataclass(frozen=True)
class GitResult:
    """What one git command returned."""

    returncode: int
    stdout: str
    stderr: str


def run_git(root: Path, *args: str, stdin_data: bytes | None = None) -> GitResult:
    """Run `git args...` in `root` and return its output, whatever the exit status.

    `stdin_data` is written to its standard input (`check-attr --stdin`); else it has none.
    """
    argv = ["git", "-c", "core.quotepath=false", *args]
    try:
        done = subprocess.run(
            argv,
            cwd=root,
            env=without_location(os.environ),
            input=stdin_data,
            stdin=subprocess.DEVNULL if stdin_data is None else None,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise _not_started(root) from exc
    return _result(done.returncode, done.stdout, done.stderr)


def run_git_all(root: Path, *commands: Sequence[str]) -> list[GitResult]:
    """Run several git commands in `root` side by side; their results, in order.

    For reads that do not depend on each other (the index and the status): their start-up
    and their walks of the work tree overlap instead of adding up.
    """
    started: list[subprocess.Popen[bytes]] = []
    try:
        for args in commands:
            started.append(
                subprocess.Popen(
                    ["git", "-c", "core.quotepath=false", *args],
                    cwd=root,
                    env=without_location(os.environ),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
    except FileNotFoundError as exc:
        for process in started:
            process.kill()
            process.communicate()
        raise _not_started(root) from exc
    results = []
    for process in started:  # each writes only its own pipes: reading in turn cannot block
        out, err = process.communicate()
        results.append(_result(process.returncode, out, err))
    return results


def _not_started(root: Path) -> GitError:
    if not root.is_dir():
        return GitError(f"{root}: the project directory does not exist.")
    return GitMissing("git: not found on PATH; install git to detect what changed.")


def _result(code: int, out: bytes, err: bytes) -> GitResult:
    return GitResult(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace").strip())


def checked(root: Path, *args: str) -> str:
    """Run git and return its standard output; a failure is a `GitError`."""
    result = run_git(root, *args)
    if result.returncode != 0:
        problem = repository_problem(result)
        if problem is not None:
            raise GitError(f"{root}: {problem}")
        detail = result.stderr.splitlines()[-1] if result.stderr else f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed in {root}: {detail}")
    return result.stdout


_NOT_A_REPOSITORY = "not a git repository"
_SAFE_DIRECTORY = "git config --global --add safe.directory"


def repository_problem(result: GitResult) -> str | None:
    """Why git refused the repository, as one phrase quoting git, or None.

    None when the command succeeded or there is no repository at all ("not a git
    repository"): that is not a refusal. "detected dubious ownership" (a checkout owned
    by another user, a container job as root on the runner's workspace) names git's fix,
    `git config --global --add safe.directory <path>`.
    """
    if result.returncode == 0:
        return None
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith(("fatal:", "error:"))), None)
    if fatal is None or _NOT_A_REPOSITORY in fatal:
        return None
    message = fatal.partition(":")[2].strip()
    fix = next((line for line in lines if line.startswith(_SAFE_DIRECTORY)), None)
    trust = f" (`{fix}` trusts it)" if fix else ""
    return f"git refuses the repository: {message}{trust}"
