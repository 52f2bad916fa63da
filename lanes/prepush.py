"""The ranges a `git push` is about to send, from the lines git gives the pre-push hook."""

from __future__ import annotations

from collections.abc import Sequence

from lanes.git import is_all_zero
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.model.errors import UsageError

# The hook exports the remote's name (its first argument) under this name, so that a new
# branch is compared with that remote's default branch.
REMOTE_ENV = "WORKFLOW_PRE_PUSH_REMOTE"
_FORMAT = '"<local ref> <local sha> <remote ref> <remote sha>"'


def push_request(lines: Sequence[str], remote: str = "origin") -> ChangeRequest:
    """One change set for every ref pushed; a deleted ref adds nothing to check."""
    ranges: list[RangeRequest] = []
    notes: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise UsageError(
                f'pre-push input, line {number}: expected {_FORMAT}, got "{line.strip()}".'
            )
        _local_ref, local_sha, remote_ref, remote_sha = parts
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
