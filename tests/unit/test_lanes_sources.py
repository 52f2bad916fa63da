"""Where the range comes from, before git is asked: options, pre-push input, GitHub."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lanes.decide import change_request, listed_changes
from lanes.github import github_request
from lanes.prepush import push_request
from lanes.ranges import BaseKind, ChangeRequest, RangeRequest
from orchestrator.commands.options import read_path_list
from orchestrator.model.errors import UsageError

ZERO = "0" * 40
A = "a" * 40
B = "b" * 40


def test_base_wins_over_everything() -> None:
    request = change_request(
        base="main", head=None, push_lines=["x"], env={"GITHUB_EVENT_NAME": "schedule"}
    )
    assert request.ranges == (RangeRequest(head="HEAD", base="main"),)


def test_head_alone_compares_with_the_upstream() -> None:
    request = change_request(base=None, head="topic", push_lines=None, env={})
    assert request.ranges == (RangeRequest(head="topic", kind=BaseKind.UPSTREAM),)


def test_push_lines_win_over_github() -> None:
    lines = [f"refs/heads/x {A} refs/heads/x {B}"]
    env = {"GITHUB_EVENT_NAME": "schedule", "WORKFLOW_PRE_PUSH_REMOTE": "upstream"}
    request = change_request(base=None, head=None, push_lines=lines, env=env)
    assert request.source == "the push to upstream"
    assert request.ranges[0].base == B


def test_locally_the_work_tree_is_compared_with_the_upstream() -> None:
    request = change_request(base=None, head=None, push_lines=None, env={})
    assert request.ranges == (RangeRequest(head=None, kind=BaseKind.UPSTREAM),)


def test_push_input_new_deleted_and_updated_refs() -> None:
    request = push_request(
        [
            f"refs/heads/new {A} refs/heads/new {ZERO}",
            f"(delete) {ZERO} refs/heads/old {B}",
            f"refs/heads/main {A} refs/heads/main {B}",
            "",
        ]
    )
    new, updated = request.ranges
    assert new == RangeRequest(
        head=A, base="origin", kind=BaseKind.DEFAULT_BRANCH, label="refs/heads/new (new on origin)"
    )
    assert (updated.head, updated.base, updated.label) == (A, B, "refs/heads/main")
    assert request.notes == ("refs/heads/old is being deleted on origin: nothing to check there",)


def test_malformed_push_input_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match='line 2: expected "<local ref>'):
        push_request([f"refs/heads/a {A} refs/heads/a {B}", "garbage"])


def write_event(tmp_path: Path, data: object) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    return {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(path)}


def test_outside_github_there_is_no_github_request() -> None:
    assert github_request({}) is None


def test_pull_request_compares_with_the_base_branch() -> None:
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "release"}
    request = github_request(env)
    assert request is not None
    assert [(r.head, r.base) for r in request.ranges] == [("HEAD", "origin/release")]


def test_pull_request_target_takes_the_head_from_the_event(tmp_path: Path) -> None:
    env = write_event(tmp_path, {"pull_request": {"head": {"sha": A}}})
    env |= {"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_BASE_REF": "main"}
    request = github_request(env)
    assert request is not None
    assert [(r.head, r.base) for r in request.ranges] == [(A, "origin/main")]


def test_pull_request_without_base_ref_is_heavy() -> None:
    request = github_request({"GITHUB_EVENT_NAME": "pull_request"})
    assert request is not None
    assert request.undetermined is not None
    assert "GITHUB_BASE_REF is not set" in request.undetermined


def test_push_event_reads_before_and_after(tmp_path: Path) -> None:
    request = github_request(
        write_event(tmp_path, {"before": B, "after": A, "ref": "refs/heads/x"})
    )
    assert request is not None
    assert [(r.head, r.base) for r in request.ranges] == [(A, B)]


def test_new_branch_push_compares_with_the_default_branch(tmp_path: Path) -> None:
    event = {"before": ZERO, "after": A, "repository": {"default_branch": "trunk"}}
    request = github_request(write_event(tmp_path, event))
    assert request is not None
    assert [(r.head, r.base) for r in request.ranges] == [(A, "origin/trunk")]


def test_deleted_branch_push_checks_nothing(tmp_path: Path) -> None:
    event = {"before": A, "after": ZERO, "deleted": True, "ref": "refs/heads/gone"}
    request = github_request(write_event(tmp_path, event))
    assert request == ChangeRequest(
        "the GitHub push event", notes=("the push deleted refs/heads/gone: nothing to check",)
    )


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch", "release"])
def test_events_without_a_range_check_everything(event: str) -> None:
    request = github_request({"GITHUB_EVENT_NAME": event})
    assert request is not None
    assert request.undetermined
    assert not request.ranges


def test_unreadable_event_file_checks_everything(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    request = github_request(env)
    assert request is not None
    assert request.undetermined is not None
    assert "missing.json cannot be read" in request.undetermined


def test_changed_files_lists(tmp_path: Path) -> None:
    listing = tmp_path / "changed.txt"
    listing.write_text("docs/a.md\r\n\n./src/b.py\ndocs/a.md\n")
    changes = listed_changes(read_path_list(str(listing)))
    assert changes.paths == ("docs/a.md", "src/b.py")
    assert not changes.lines_known
    assert read_path_list("-", io.StringIO("x\ny\n")) == ["x", "y"]


def test_unreadable_changed_files_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--changed-files: cannot read .*nope\.txt"):
        read_path_list(str(tmp_path / "nope.txt"))
