"""The range a GitHub Actions run should check, from its variables and event file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lanes.git import is_all_zero
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.model.textinput import read_text

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
CHECK_EVERYTHING_EVENTS = ("schedule", "workflow_dispatch")
_EVERYTHING = "so every check runs"


def github_request(env: Mapping[str, str]) -> ChangeRequest | None:
    """The request for this GitHub event, or None outside GitHub Actions."""
    event = env.get("GITHUB_EVENT_NAME", "")
    if not event:
        return None
    source = f"the GitHub {event} event"
    if event in PULL_REQUEST_EVENTS:
        return _pull_request(env, event, source)
    if event == "push":
        return _push(env, source)
    if event in CHECK_EVERYTHING_EVENTS:
        return ChangeRequest(source, undetermined=f"a {event} run checks everything")
    return ChangeRequest(source, undetermined=f"{source} names no range of commits, {_EVERYTHING}")


def _pull_request(env: Mapping[str, str], event: str, source: str) -> ChangeRequest:
    base_ref = env.get("GITHUB_BASE_REF", "")
    if not base_ref:
        return ChangeRequest(
            source, undetermined=f"GITHUB_BASE_REF is not set for {source}, {_EVERYTHING}"
        )
    head = "HEAD"
    if event == "pull_request_target":
        # This event checks out the base branch, not the pull request: take its head.
        data, _problem = read_event(env)
        pull = data.get("pull_request") if data else None
        sha = pull.get("head", {}).get("sha") if isinstance(pull, dict) else None
        head = sha if isinstance(sha, str) and sha else "HEAD"
    return ChangeRequest(
        f"the pull request into {base_ref}",
        ranges=(
            RangeRequest(
                head=head,
                base=f"origin/{base_ref}",
                what="the pull request's base",
                hint=" (actions/checkout with fetch-depth: 0 fetches it)",
            ),
        ),
    )


def _push(env: Mapping[str, str], source: str) -> ChangeRequest:
    data, problem = read_event(env)
    if data is None:
        return ChangeRequest(source, undetermined=f"{problem}, {_EVERYTHING}")
    before = data.get("before")
    after = data.get("after")
    ref = data.get("ref") or "the branch"
    if data.get("deleted") is True or (isinstance(after, str) and is_all_zero(after)):
        return ChangeRequest(source, notes=(f"the push deleted {ref}: nothing to check",))
    if not isinstance(before, str) or not isinstance(after, str) or not after:
        return ChangeRequest(
            source,
            undetermined=f"the push event names no before and after commits, {_EVERYTHING}",
        )
    if is_all_zero(before):
        return ChangeRequest(f"the new branch {ref}", ranges=(_new_branch(data, after),))
    return ChangeRequest(
        f"the push to {ref}",
        ranges=(
            RangeRequest(
                head=after,
                base=before,
                what="the push's before commit",
                hint=" (after a force push, or in a shallow checkout)",
            ),
        ),
    )


def _new_branch(data: Mapping[str, Any], after: str) -> RangeRequest:
    repository = data.get("repository")
    default = repository.get("default_branch") if isinstance(repository, dict) else None
    if isinstance(default, str) and default:
        return RangeRequest(
            head=after,
            base=f"origin/{default}",
            what="the default branch",
            hint=" (actions/checkout with fetch-depth: 0 fetches it)",
        )
    return RangeRequest(head=after, base="origin", kind=BaseKind.DEFAULT_BRANCH)


def read_event(env: Mapping[str, str]) -> tuple[dict[str, Any] | None, str]:
    """The event file's JSON object, or None and the reason it cannot be read."""
    name = env.get("GITHUB_EVENT_PATH", "")
    if not name:
        return None, "GITHUB_EVENT_PATH is not set"
    try:
        data = json.loads(read_text(Path(name)))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"the GitHub event file {name} cannot be read ({exc})"
    if not isinstance(data, dict):
        return None, f"the GitHub event file {name} does not hold a JSON object"
    return data, ""
