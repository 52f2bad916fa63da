"""The ranges a `git push` is about to send, from the lines git gives the pre-push hook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from lanes.git import is_all_zero
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.model.errors import UsageError

# The hook exports the remote's name (its first argument) under this name, so that a new
# branch is compared with that remote's default branch.
REMOTE_ENV = "WORKFLOW_PRE_PUSH_REMOTE"
_FORMAT = '"<local ref> <local sha> <remote ref> <remote sha>"'


class PushedRef(NamedTuple):
    """One line git gives the pre-push hook: what is pushed where."""

    local_ref: str  # "refs/heads/topic", "HEAD~1", or "(delete)"
    local_sha: str  # all zeros: the remote ref is being deleted
    remote_ref: str
    remote_sha: str  # all zeros: the remote ref is new

    @property
    def deleted(self) -> bool:
        """The push deletes `remote_ref`: nothing of it to check."""
        return is_all_zero(self.local_sha)


def parse_push_lines(lines: Sequence[str]) -> tuple[PushedRef, ...]:
    """The pushed refs, in git's order; UsageError names a line that is not one."""
    pushed: list[PushedRef] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise UsageError(
                f'pre-push input, line {number}: expected {_FORMAT}, got "{line.strip()}".'
            )
        pushed.append(PushedRef(*parts))
    return tuple(pushed)


def push_request(lines: Sequence[str], remote: str = "origin") -> ChangeRequest:
    """One change set for every ref pushed; a deleted ref adds nothing to check."""
    ranges: list[RangeRequest] = []
    notes: list[str] = []
    for _local_ref, local_sha, remote_ref, remote_sha in parse_push_lines(lines):
        if is_all_zero(local_sha):
            notes.append(f"{remote_ref} is being deleted on {remote}: nothing to check there")
        elif is_all_zero(remote_sha):
            ranges.append(
                RangeRequest(
                    head=local_sha,
                    base=remote,
                    kind=BaseKind.DEFAULT_BRANCH,
                    label=f"{remote_ref} (new on {remote})",
                )
            )
        else:
            ranges.append(
                RangeRequest(
                    head=local_sha,
                    base=remote_sha,
                    what=f"the commit {remote} has for {remote_ref}",
                    hint=" (someone else pushed it: fetch first)",
                    label=remote_ref,
                )
            )
    return ChangeRequest(source=f"the push to {remote}", ranges=tuple(ranges), notes=tuple(notes))
