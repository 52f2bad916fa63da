"""GitHub Actions events on real repositories: the event file picks the right range."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from lanes.decide import decide_lane
from orchestrator.model.config import Lane
from tests.helpers.lanes_repo import (
    DETECT,
    ZERO,
    Repo,
    git,
    remote_and_clone,
)

pytestmark = pytest.mark.usefixtures("isolated_git")


def event_env(
    tmp_path: Path, name: str, payload: Mapping[str, object], **extra: str
) -> dict[str, str]:
    path = tmp_path / f"{name}-event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
    } | extra


@pytest.fixture
def work(tmp_path: Path) -> Repo:
    _bare, repo = remote_and_clone(tmp_path)
    return repo


def test_pull_request_compares_the_merge_commit_with_the_base_branch(
    tmp_path: Path, work: Repo
) -> None:
    work.git("checkout", "-q", "-b", "feature")
    head = work.commit({"docs/feature.md": "Feature.\n"})
    work.git("checkout", "-q", "main")
    work.commit({"src/app.py": "print('main moved on')\n"})
    work.git("push", "-q", "origin", "main")
    work.git("fetch", "-q", "origin")
    # What actions/checkout gives a pull_request run: the merge into the base, detached.
    work.git("checkout", "-q", "--detach", "origin/main")
    work.git("merge", "-q", "--no-ff", "-m", "Merge feature into main", head)
    payload = {"pull_request": {"base": {"ref": "main"}, "head": {"sha": head}}}
    env = event_env(tmp_path, "pull_request", payload, GITHUB_BASE_REF="main")
    decision = decide_lane(work.path, DETECT, env=env)
    assert decision.lane is Lane.DOCS, decision.reasons
    assert decision.base == work.sha("origin/main")
    assert decision.changed == ("docs/feature.md",)
    assert "origin/main...HEAD" in decision.reasons[1]


def test_pull_request_target_checks_the_pull_requests_head(tmp_path: Path, work: Repo) -> None:
    work.git("checkout", "-q", "-b", "feature")
    head = work.commit({"src/feature.py": "x = 1\n"})
    work.git("checkout", "-q", "main")  # pull_request_target runs on the base branch
    payload = {"pull_request": {"head": {"sha": head}}}
    env = event_env(tmp_path, "pull_request_target", payload, GITHUB_BASE_REF="main")
    decision = decide_lane(work.path, DETECT, env=env)
    assert decision.lane is Lane.STANDARD
    assert decision.changed == ("src/feature.py",)


def test_pull_request_in_a_shallow_checkout_is_heavy(tmp_path: Path, work: Repo) -> None:
    work.git("checkout", "-q", "-b", "feature")
    work.commit({"docs/feature.md": "Feature.\n"})
    work.git("push", "-q", "origin", "feature")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--depth", "1", "-b", "feature", f"file://{bare}", "ci")
    env = event_env(tmp_path, "pull_request", {}, GITHUB_BASE_REF="main")
    decision = decide_lane(tmp_path / "ci", DETECT, env=env)
    assert decision.lane is Lane.HEAVY
    assert "the pull request's base origin/main is not a commit" in decision.reasons[0]
    assert "fetch-depth: 0" in decision.reasons[0]
    assert "shallow clone" in decision.reasons[0]


def test_push_event_compares_before_with_after(tmp_path: Path, work: Repo) -> None:
    before = work.sha()
    work.commit({"docs/a.md": "A.\n"})
    after = work.commit({"src/app.py": "print('pushed')\n"})
    payload = {"ref": "refs/heads/main", "before": before, "after": after}
    decision = decide_lane(work.path, DETECT, env=event_env(tmp_path, "push", payload))
    assert decision.lane is Lane.STANDARD
    assert decision.base == before
    assert decision.changed == ("docs/a.md", "src/app.py")


def test_push_event_of_a_new_branch_uses_the_default_branch(tmp_path: Path, work: Repo) -> None:
    work.git("checkout", "-q", "-b", "feature")
    after = work.commit({"docs/a.md": "A.\n"})
    payload = {
        "ref": "refs/heads/feature",
        "before": ZERO,
        "after": after,
        "created": True,
        "repository": {"default_branch": "main"},
    }
    decision = decide_lane(work.path, DETECT, env=event_env(tmp_path, "push", payload))
    assert decision.lane is Lane.DOCS
    assert decision.base == work.sha("origin/main")


def test_push_event_after_a_force_push_is_heavy(tmp_path: Path, work: Repo) -> None:
    gone = "5" * 40  # the old tip, rewritten away and never fetched here
    after = work.commit({"docs/a.md": "A.\n"})
    payload = {"ref": "refs/heads/main", "before": gone, "after": after, "forced": True}
    decision = decide_lane(work.path, DETECT, env=event_env(tmp_path, "push", payload))
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == (
        "the push's before commit 555555555555 is not a commit in this repository "
        "(after a force push, or in a shallow checkout): "
        "the changes are unknown, so every check runs",
    )


def test_push_event_of_a_deleted_branch_checks_nothing(tmp_path: Path, work: Repo) -> None:
    payload = {"ref": "refs/heads/old", "before": work.sha(), "after": ZERO, "deleted": True}
    decision = decide_lane(work.path, DETECT, env=event_env(tmp_path, "push", payload))
    assert decision.lane is None


def test_scheduled_runs_are_heavy(tmp_path: Path, work: Repo) -> None:
    decision = decide_lane(work.path, DETECT, env=event_env(tmp_path, "schedule", {}))
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == ("a schedule run checks everything",)
