"""What git says about a project: its checkout, its changes, its files and its record.

git itself is run by `orchestrator/gitio.py` (argv lists, no shell, the hook's variables
dropped); this module asks it the questions lanes need and reads its answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lanes.changes import FileChange, Status
from orchestrator.gitio import GitError, checked, repository_problem, run_git
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


@dataclass(frozen=True)
class Checkout:
    """Whether `root` is inside a git work tree, and whether its history is shallow.

    `problem`: git's own refusal of a repository that is there (quoted, with its fix), or
    None when there is none to refuse or it was accepted.
    """

    inside: bool
    shallow: bool
    problem: str | None = None


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
