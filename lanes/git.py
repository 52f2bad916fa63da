"""The one place that runs git: argv lists, no shell, no stdin, machine-readable output.

Every call passes `-c core.quotepath=false` and, for diffs, `--no-ext-diff -z`, so a
user's diff driver or pager never runs and unusual file names arrive intact (as
pre-commit's `git.py` does). Every call finds its repository from the directory it runs
in: the variables a git hook inherits that point elsewhere (`GIT_DIR` from a linked
worktree, `GIT_INDEX_FILE`) are dropped (`model/gitenv.py`).

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

from lanes.changes import FileChange, Status
from orchestrator.model.errors import ExitCode, WorkflowError
from orchestrator.model.gitenv import without_location
from orchestrator.model.ownpaths import top_environments
from orchestrator.model.status import GitRecord

ZERO_SHA = "0" * 40
_STATUS = {
    "A": Status.ADDED,
    "M": Status.MODIFIED,
    "D": Status.DELETED,
    "R": Status.RENAMED,
    "C": Status.COPIED,
    "T": Status.TYPE_CHANGED,
}


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


@dataclass(frozen=True)
class Checkout:
    """Whether `root` is inside a git work tree, and whether its history is shallow.

    `problem`: git's own refusal of a repository that is there (quoted, with its fix), or
    None when there is none to refuse or it was accepted.
    """

    inside: bool
    shallow: bool
    problem: str | None = None


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


def checkout(root: Path) -> Checkout:
    """Inspect the repository around `root`."""
    result = run_git(root, "rev-parse", "--is-inside-work-tree", "--is-shallow-repository")
    lines = result.stdout.split()
    if result.returncode != 0 or not lines or lines[0] != "true":
        return Checkout(inside=False, shallow=False, problem=repository_problem(result))
    return Checkout(inside=True, shallow=len(lines) > 1 and lines[1] == "true")


def commit_sha(root: Path, ref: str) -> str | None:
    """The commit `ref` names, or None when it names none here."""
    if ref.startswith("-"):
        return None  # never let a ref be read as an option
    result = run_git(
        root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
    )
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else None


def merge_base(root: Path, base: str, head: str) -> str | None:
    """Their best common ancestor, or None when the histories share none."""
    result = run_git(root, "merge-base", "--end-of-options", base, head)
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else None


def upstream(root: Path) -> str | None:
    """The current branch's upstream (`origin/main`), or None."""
    result = run_git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    name = result.stdout.strip()
    return name if result.returncode == 0 and name else None


def remote_default_branch(root: Path, remote: str) -> str | None:
    """The branch `refs/remotes/<remote>/HEAD` points at (`origin/main`), or None."""
    result = run_git(root, "symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD")
    name = result.stdout.strip()
    return name if result.returncode == 0 and name else None


def diff(root: Path, base: str, head: str | None) -> tuple[FileChange, ...]:
    """Files changed from `base` to `head` (None: the work tree), under `root` only."""
    revisions = [base] if head is None else [base, head]
    common = ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "-z", "-M", "--relative"]
    names = checked(root, *common, "--name-status", *revisions, "--")
    counts = checked(root, *common, "--numstat", *revisions, "--")
    lines = _parse_numstat(counts)
    return tuple(
        FileChange(path, status, old, *lines.get(path, (0, 0)))
        for path, status, old in _parse_name_status(names)
    )


def untracked(root: Path) -> tuple[str, ...]:
    """New files git does not track yet (ignored ones left out), relative to `root`;
    git does not walk the virtualenvs directly under `root` (never a change)."""
    venvs = tuple(f":(exclude){venv}" for venv in top_environments(root))
    output = checked(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".", *venvs)
    return tuple(path for path in output.split("\0") if path)


def project_files(root: Path) -> list[str] | None:
    """Files git tracks or would track under `root` (ignored ones left out), relative and
    "/"-separated; None outside a work tree or without git."""
    try:
        result = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except GitError:
        return None
    if result.returncode != 0:
        return None
    return [path for path in result.stdout.split("\0") if path]


def git_path(root: Path, name: str) -> Path:
    """`git rev-parse --git-path NAME`: honours core.hooksPath, worktrees and submodules."""
    result = run_git(root, "rev-parse", "--git-path", name)
    if result.returncode != 0:
        problem = repository_problem(result)
        if problem is not None:
            raise GitError(f"{root}: {problem}.")
        raise GitError(f"{root} is not inside a git repository.")
    path = Path(result.stdout.strip())
    return path if path.is_absolute() else root / path


def toplevel(root: Path) -> Path:
    """The top directory of the work tree around `root`."""
    return Path(checked(root, "rev-parse", "--show-toplevel").strip())


def _parse_name_status(output: str) -> list[tuple[str, Status, str | None]]:
    fields = output.split("\0")
    entries: list[tuple[str, Status, str | None]] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][:1]
        if code in {"R", "C"}:
            entries.append((fields[i + 2], _STATUS[code], fields[i + 1]))
            i += 3
        else:
            entries.append((fields[i + 1], _STATUS.get(code, Status.MODIFIED), None))
            i += 2
    return entries


def _parse_numstat(output: str) -> dict[str, tuple[int, int]]:
    # "added\tdeleted\tpath\0", or "added\tdeleted\t\0old\0new\0" for a rename;
    # binary files show "-" for both counts.
    fields = output.split("\0")
    counts: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(fields) and fields[i]:
        added, deleted, path = fields[i].split("\t", 2)
        if path:
            i += 1
        else:
            path = fields[i + 2]
            i += 3
        counts[path] = (_count(added), _count(deleted))
    return counts


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0


def is_all_zero(sha: str) -> bool:
    """git's way of saying "no commit" on pre-push input and in push events."""
    return bool(sha) and set(sha) == {"0"}


def head_identity(root: Path, head: str | None = None) -> tuple[str | None, str | None]:
    """The sha and branch name of the commit being checked (None outside a checkout)."""
    sha = commit_sha(root, head or "HEAD")
    if sha is None:
        return None, None
    if head is not None and head != "HEAD":
        return sha, head
    branch = run_git(root, "symbolic-ref", "--short", "-q", "HEAD").stdout.strip()
    return sha, branch or None


def is_clean(root: Path) -> bool | None:
    """Whether tracked files match HEAD (untracked files ignored); None when git cannot say.

    Per-test history rows are only comparable between runs of the same commit when the
    tree was clean: an edited test is other code under the same sha.
    """
    result = run_git(root, "status", "--porcelain", "--untracked-files=no", "-z")
    if result.returncode != 0:
        return None
    return result.stdout == ""


def git_record(root: Path, head: str | None, base: str | None) -> GitRecord:
    """The run record's commit: sha and branch of `head` (HEAD), and the base compared with.

    Without git, or outside a checkout, the record simply names no commit.
    """
    try:
        sha, branch = head_identity(root, head)
        # Only a run of HEAD itself can say whether the tree it ran matches the commit.
        clean = is_clean(root) if sha is not None and head in (None, "HEAD") else None
    except GitError:
        return GitRecord(base=base)
    return GitRecord(sha=sha, branch=branch, base=base, clean=clean)
