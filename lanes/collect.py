"""Turn a change request into a change set by asking git; trouble becomes a reason."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from lanes import git
from lanes.changes import ChangeSet, FileChange, Status, merge_change_sets
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.gitio import GitError
from orchestrator.model.ownpaths import environments, inside

_UNKNOWN = "the changes are unknown, so every check runs"
_SHALLOW = " (this is a shallow clone: `git fetch --unshallow` fetches the history)"


@dataclass(frozen=True)
class _Repo:
    root: Path
    shallow: bool


def collect(root: Path, request: ChangeRequest) -> ChangeSet:
    """The files the request's ranges changed, or why they cannot be known."""
    if request.undetermined or not request.ranges:
        return ChangeSet(
            description=request.source, undetermined=request.undetermined, notes=request.notes
        )
    try:
        found = git.checkout(root)
        if not found.inside:
            why = found.problem or f"{root} is not inside a git checkout"
            return ChangeSet(description=request.source, undetermined=f"{why}, so every check runs")
        repo = _Repo(root, found.shallow)
        parts = tuple(_collect_range(repo, wanted) for wanted in request.ranges)
    except GitError as exc:
        return ChangeSet(description=request.source, undetermined=f"{exc.message} ({_UNKNOWN})")
    merged = parts[0] if len(parts) == 1 else _merged(request.source, parts)
    return replace(merged, notes=merged.notes + request.notes)


def _merged(source: str, parts: tuple[ChangeSet, ...]) -> ChangeSet:
    described = "; ".join(part.description for part in parts)
    return merge_change_sets(parts, f"{source} ({described})")


def _collect_range(repo: _Repo, wanted: RangeRequest) -> ChangeSet:
    label = f"{wanted.label}: " if wanted.label else ""
    base_ref, problem = _base_ref(repo, wanted)
    if base_ref is None:
        return ChangeSet(description=label.rstrip(": "), undetermined=problem)
    head_ref = wanted.head or "HEAD"
    head = git.commit_sha(repo.root, head_ref)
    if head is None:
        return _unknown(
            repo, label, f"the head {_short(head_ref)} is not a commit in this repository"
        )
    base = git.commit_sha(repo.root, base_ref)
    if base is None:
        missing = (
            f"{wanted.what} {_short(base_ref)} is not a commit in this repository{wanted.hint}"
        )
        return _unknown(repo, label, missing)
    shown = f"{_short(base_ref)}...{_short(head_ref)}"
    start = git.merge_base(repo.root, base, head)
    if start is None and repo.shallow:
        return _unknown(repo, label, f"{shown} has no merge base in the fetched history")
    if start is None:
        start = base  # unrelated histories: DESIGN.md says base..head
        shown = f"{_short(base_ref)}..{_short(head_ref)} (no common history)"
    else:
        shown = f"{shown} (merge base {start[:12]})"
    files = git.diff(repo.root, start, None if wanted.head is None else head)
    if wanted.head is None:
        files += _untracked(repo.root)
        shown += " and the work tree"
    return ChangeSet(files=files, description=f"{label}{shown}", base=start)


def _base_ref(repo: _Repo, wanted: RangeRequest) -> tuple[str | None, str]:
    if wanted.kind is BaseKind.REF:
        return wanted.base, ""
    if wanted.kind is BaseKind.DEFAULT_BRANCH:
        name = _default_branch(repo, wanted.base)
        if name is None:
            remote = wanted.base
            return None, (
                f"{wanted.label or 'the branch'} is compared with the default branch of "
                f"{remote}, which is unknown (`git remote set-head {remote} --auto` "
                f"records it), so every check runs"
            )
        return name, ""
    name = git.upstream(repo.root)
    if name is None and git.commit_sha(repo.root, "refs/remotes/origin/HEAD") is not None:
        name = "origin/HEAD"
    if name is None:
        return None, (
            "the current branch has no upstream and origin/HEAD is not set, so there is "
            "nothing to compare with (name a base revision) and every check runs"
        )
    return name, ""


def _default_branch(repo: _Repo, remote: str) -> str | None:
    # A remote added by hand (not cloned) has no <remote>/HEAD until `set-head`: try the
    # two usual names before giving up.
    name = git.remote_default_branch(repo.root, remote)
    if name is not None:
        return name
    for candidate in (f"{remote}/main", f"{remote}/master"):
        if git.commit_sha(repo.root, f"refs/remotes/{candidate}") is not None:
            return candidate
    return None


def _unknown(repo: _Repo, label: str, problem: str) -> ChangeSet:
    shallow = _SHALLOW if repo.shallow else ""
    return ChangeSet(
        description=label.rstrip(": "), undetermined=f"{label}{problem}{shallow}: {_UNKNOWN}"
    )


def _untracked(root: Path) -> tuple[FileChange, ...]:
    # A virtualenv git does not ignore is the tools' installation, not a change.
    paths = git.untracked(root)
    venvs = environments(paths)
    return tuple(
        FileChange(path, Status.UNTRACKED, added=_line_count(root / path))
        for path in paths
        if not inside(path, venvs)
    )


def _line_count(path: Path) -> int:
    # Like git's numstat: a file with a NUL byte is binary and counts no lines.
    total = 0
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                if b"\0" in chunk:
                    return 0
                total += chunk.count(b"\n")
    except OSError:
        return 0
    return total


def _short(ref: str) -> str:
    """A full commit id shortened for messages; names are kept."""
    is_sha = len(ref) == 40 and all(char in "0123456789abcdef" for char in ref)
    return ref[:12] if is_sha else ref
