"""git's side of checking a pushed commit: the work tree's state, temporary worktrees.

`read_work_tree` says what the checkout the push was made from holds: its `HEAD`, and
every path that differs from it (staged, unstaged, untracked but not ignored, in conflict,
or hidden by the index's `assume-unchanged`/`skip-worktree` flags, whose content git no
longer compares). `add_worktree` checks a commit out, detached (no branch is made), in a
new directory, without running the repository's hooks; `remove_worktree` takes it away
again, whatever state it was left in (half-made by an interrupted `git worktree add`,
locked), and prunes git's record of it, so `git worktree list` shows nothing of it.

`python -m lanes.worktree remove REPO PATH` does the same from outside: the watchdog runs
it when workflow is killed while a temporary worktree exists.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from lanes.git import commit_sha
from orchestrator.gitio import GitError, checked, repository_problem, run_git
from orchestrator.model.toolconfigs import read_when_ignored

PREFIX = "workflow-push-"  # temporary worktrees are PREFIX<pid>-<random>
_NO_HOOKS = ("-c", f"core.hooksPath={os.devnull}")  # a post-checkout hook must not run


class WorkTree(NamedTuple):
    """The checkout a push was made from.

    `top`: its top directory; `prefix`: the project's directory within it ("" or
    "sub/dir/"); `head`: the checked-out commit (None: none yet); `changed`: top-relative
    paths that may differ from `head`; `commits`: each pushed object asked about -> the
    commit it is (an annotated tag peeled), or None when it is none.
    """

    top: Path
    prefix: str
    head: str | None
    changed: tuple[str, ...]
    commits: dict[str, str | None]


def read_work_tree(directory: Path, pushed: Sequence[str] = ()) -> WorkTree:
    """The checkout around `directory`, and the commits the `pushed` objects are. Raises
    GitError when there is no checkout, or git refuses it (its own words).

    Three git processes on the hook's way to its first stage: where and what HEAD and the
    pushed objects are (one `rev-parse`), the status, and the index's flags.
    """
    objects = ["HEAD", *pushed]
    asked = [f"{name}^{{commit}}" for name in objects]
    where = run_git(directory, "rev-parse", "--show-toplevel", "--show-prefix", *asked)
    lines = where.stdout.split("\n")
    if where.returncode != 0:  # an unborn HEAD, a tag of a tree: ask one at a time
        where = run_git(directory, "rev-parse", "--show-toplevel", "--show-prefix")
        problem = repository_problem(where)
        if problem is not None:
            raise GitError(f"{directory}: {problem}")
        lines = where.stdout.split("\n")
        if where.returncode != 0 or not lines[0].strip():
            raise GitError(f"{directory} is not inside a git work tree.")
        lines[2:] = [commit_sha(directory, name) or "" for name in objects]
    top = Path(lines[0].strip())
    found = [line.strip() or None for line in lines[2 : 2 + len(objects)]]
    status = checked(
        top,
        *("-c", "core.fileMode=true", "--no-optional-locks", "status", "--porcelain=v1"),
        *("-z", "--untracked-files=all", "--no-renames", "--ignore-submodules=none"),
        "--ignored=matching",
    )
    flagged = checked(top, "ls-files", "-v", "-z")
    return WorkTree(
        top=top,
        prefix=lines[1].strip(),
        head=found[0],
        changed=tuple(sorted({*_status_paths(status), *_hidden_paths(flagged)})),
        commits=dict(zip(pushed, found[1:], strict=True)),
    )


def _status_paths(output: str) -> set[str]:
    """Every path `git status --porcelain -z --ignored=matching` names as changed or
    untracked, and the ignored files tools read all the same (a Python source the code
    imports, a configuration file): a check in place would lean on them, a clone of the
    pushed commit has none of them (`model/toolconfigs.read_when_ignored`, as the result
    cache keys them)."""
    entries = [entry for entry in output.split("\0") if len(entry) > 3]
    ignored = [e[3:] for e in entries if e.startswith("!! ") and not e.endswith("/")]
    changed = {e[3:].rstrip("/") for e in entries if not e.startswith("!! ")}
    return changed | set(read_when_ignored(ignored))


def _hidden_paths(output: str) -> set[str]:
    """Paths `ls-files -v` tags as assume-unchanged (a lower-case tag) or skip-worktree
    (`S`): git does not look at their content, so neither can a check in place."""
    hidden = set()
    for entry in output.split("\0"):
        tag, _, path = entry.partition(" ")
        if path and (tag.islower() or tag == "S"):
            hidden.add(path)
    return hidden


def new_worktree_path(parent: Path | None = None) -> Path:
    """A new empty directory for a temporary worktree, named after this process."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))


def add_worktree(top: Path, path: Path, sha: str) -> None:
    """Check `sha` out, detached, at `path` (an empty directory). Raises GitError."""
    checked(top, *_NO_HOOKS, "worktree", "add", "--detach", "--quiet", str(path), sha)


def remove_worktree(top: Path, path: Path) -> None:
    """Remove the temporary worktree at `path` and git's record of it, never raising:
    half-made, locked or already gone, nothing of it is left in `git worktree list`."""
    run_git(top, "worktree", "unlock", str(path))
    run_git(top, "worktree", "remove", "--force", "--force", str(path))
    shutil.rmtree(path, ignore_errors=True)
    run_git(top, "worktree", "prune")


def sweep_stale(top: Path) -> list[Path]:
    """Remove temporary worktrees a killed workflow left (its process is gone); the paths."""
    listing = run_git(top, "worktree", "list", "--porcelain")
    removed: list[Path] = []
    for line in listing.stdout.splitlines():
        if not line.startswith("worktree "):
            continue
        path = Path(line.removeprefix("worktree "))
        owner = _owner(path.name)
        if owner is not None and not _alive(owner):
            remove_worktree(top, path)
            removed.append(path)
    return removed


def _owner(name: str) -> int | None:
    if not name.startswith(PREFIX):
        return None
    pid = name.removeprefix(PREFIX).partition("-")[0]
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    """`remove REPO PATH`: what the watchdog runs for a workflow killed mid-check."""
    if len(argv) != 3 or argv[0] != "remove":
        print("usage: python -m lanes.worktree remove REPO PATH", file=sys.stderr)
        return 2
    remove_worktree(Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
