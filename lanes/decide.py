"""`decide_lane`: the lane an automatic run takes, from wherever the range comes.

Where the changes come from, first match wins: a list of changed paths; a base and/or
head commit; the pre-push hook's input lines; GitHub Actions (`GITHUB_EVENT_NAME`);
otherwise the current branch's upstream (then origin/HEAD), with uncommitted and
untracked files included. Nothing here reads standard input: the caller passes lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from lanes.changes import ChangeSet, FileChange, LaneDecision, Status
from lanes.collect import collect
from lanes.detect import choose_lane
from lanes.github import github_request
from lanes.ownpaths import project_path, without_own_outputs
from lanes.prepush import REMOTE_ENV, push_request
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.model.config import DetectConfig
from orchestrator.model.globs import normalize_path

__all__ = [
    "LaneDecision",
    "change_request",
    "decide_lane",
    "read_changes",
]


def decide_lane(  # noqa: PLR0913 - one keyword per change source, in DESIGN's order
    root: Path,
    detect: DetectConfig,
    *,
    base: str | None = None,
    head: str | None = None,
    changed_files: Sequence[str] | None = None,
    push_lines: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    own_outputs: Sequence[Path] = (),
) -> LaneDecision:
    """The lane for what changed in the project at `root`, and the reasons.

    `own_outputs` are workflow's own files and directories (absolute: history, reports,
    cache): a change under them never counts.
    """
    changes = read_changes(
        root, base=base, head=head, changed_files=changed_files, push_lines=push_lines, env=env
    )
    return choose_lane(without_own_outputs(changes, root, own_outputs), detect)


def read_changes(  # noqa: PLR0913 - one keyword per change source, as decide_lane
    root: Path,
    *,
    base: str | None = None,
    head: str | None = None,
    changed_files: Sequence[str] | None = None,
    push_lines: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> ChangeSet:
    """What changed, as `decide_lane` sees it (git is asked only when a range needs it)."""
    if changed_files is not None:
        return listed_changes(changed_files, root)
    request = change_request(
        base=base, head=head, push_lines=push_lines, env=os.environ if env is None else env
    )
    return collect(root, request)


def change_request(
    *,
    base: str | None,
    head: str | None,
    push_lines: Sequence[str] | None,
    env: Mapping[str, str],
) -> ChangeRequest:
    """Which range to read, by DESIGN.md's order of sources."""
    if base is not None:
        return ChangeRequest(f"base {base}", ranges=(RangeRequest(head=head or "HEAD", base=base),))
    if head is not None:
        return ChangeRequest(
            f"head {head}", ranges=(RangeRequest(head=head, kind=BaseKind.UPSTREAM),)
        )
    if push_lines is not None:
        return push_request(push_lines, env.get(REMOTE_ENV) or "origin")
    found = github_request(env)
    if found is not None:
        return found
    return ChangeRequest(
        "the current branch", ranges=(RangeRequest(head=None, kind=BaseKind.UPSTREAM),)
    )


def listed_changes(lines: Sequence[str], root: Path | None = None) -> ChangeSet:
    """A change set from a list of paths (line counts unknown).

    With `root`, each path is made relative to the project; a path outside it is left out
    and named in the notes.
    """
    paths: dict[str, None] = {}
    outside: list[str] = []
    for line in (raw.strip() for raw in lines):
        if not line:
            continue
        path = normalize_path(line) if root is None else project_path(line, root)
        if path is None:
            outside.append(line)
        elif path:
            paths[path] = None
    notes: tuple[str, ...] = ()
    if outside:
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        plural = "s" if len(outside) != 1 else ""
        shown = ", ".join(outside[:3]) + more
        notes = (f"{len(outside)} listed path{plural} outside the project left out ({shown})",)
    return ChangeSet(
        files=tuple(FileChange(path, Status.LISTED) for path in paths),
        description="the list of changed files",
        lines_known=False,
        notes=notes,
    )
