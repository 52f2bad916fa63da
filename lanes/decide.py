"""`decide_lane`: the lane `workflow run --lane auto` takes, from wherever the range comes.

Where the changes come from, first match wins: `--changed-files`; `--base`/`--head`; the
pre-push hook's input; GitHub Actions (`GITHUB_EVENT_NAME`); otherwise the current
branch's upstream (then origin/HEAD), with uncommitted and untracked files included.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from lanes.changes import ChangeSet, FileChange, LaneDecision, Status
from lanes.collect import collect
from lanes.detect import choose_lane
from lanes.github import github_request
from lanes.globs import normalize_path
from lanes.prepush import REMOTE_ENV, push_request
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.model.config import DetectConfig
from orchestrator.model.errors import UsageError

__all__ = [
    "LaneDecision",
    "change_request",
    "decide_from_options",
    "decide_lane",
    "read_changes",
    "read_path_list",
]


def decide_lane(
    root: Path,
    detect: DetectConfig,
    *,
    base: str | None = None,
    head: str | None = None,
    changed_files: Sequence[str] | None = None,
    push_lines: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> LaneDecision:
    """The lane for what changed in the project at `root`, and the reasons."""
    changes = read_changes(
        root, base=base, head=head, changed_files=changed_files, push_lines=push_lines, env=env
    )
    return choose_lane(changes, detect)


def decide_from_options(
    root: Path,
    detect: DetectConfig,
    *,
    base: str | None,
    head: str | None,
    changed_files: str | None,
    pre_push: bool,
) -> LaneDecision:
    """The lane from the command line's change options (`--base`, `--head`,
    `--changed-files FILE|-`, and the hook's refs on standard input with `--pre-push`)."""
    return decide_lane(
        root,
        detect,
        base=base,
        head=head,
        changed_files=None if changed_files is None else read_path_list(changed_files),
        push_lines=sys.stdin.read().splitlines() if pre_push else None,
    )


def read_changes(
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
        return listed_changes(changed_files)
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
        return ChangeRequest(
            f"--base {base}", ranges=(RangeRequest(head=head or "HEAD", base=base),)
        )
    if head is not None:
        return ChangeRequest(
            f"--head {head}", ranges=(RangeRequest(head=head, kind=BaseKind.UPSTREAM),)
        )
    if push_lines is not None:
        return push_request(push_lines, env.get(REMOTE_ENV) or "origin")
    found = github_request(env)
    if found is not None:
        return found
    return ChangeRequest(
        "the current branch", ranges=(RangeRequest(head=None, kind=BaseKind.UPSTREAM),)
    )


def listed_changes(lines: Sequence[str]) -> ChangeSet:
    """A change set from a list of paths (line counts unknown)."""
    paths = dict.fromkeys(normalize_path(line.strip()) for line in lines if line.strip())
    return ChangeSet(
        files=tuple(FileChange(path, Status.LISTED) for path in paths if path),
        description="the --changed-files list",
        lines_known=False,
    )


def read_path_list(spec: str, stdin: TextIO | None = None) -> list[str]:
    """The lines of `--changed-files FILE|-` (`-`: standard input)."""
    if spec == "-":
        return (stdin or sys.stdin).read().splitlines()
    try:
        return Path(spec).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--changed-files: cannot read {spec}: {reason}.") from exc
