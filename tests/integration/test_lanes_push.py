"""A real `git push` through the installed hook: the refs git reports pick the lane.

The hook is installed with a stand-in command that records how it was called and then
runs the real `workflow lane --pre-push --json` on the same input, so these tests do not
depend on the run engine (test_lanes_run.py covers `workflow run` itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lanes.decide import decide_lane
from lanes.hook import install_hook
from orchestrator.model.config import Lane
from tests.helpers.lanes_repo import (
    DETECT,
    ZERO,
    Repo,
    lane_stand_in,
    push,
    remote_and_clone,
)

pytestmark = pytest.mark.usefixtures("isolated_git")


@pytest.fixture
def hooked(tmp_path: Path) -> tuple[Repo, Path]:
    """A clone with the hook installed (stand-in command), and where the call is recorded."""
    _bare, work = remote_and_clone(tmp_path)
    command, record = lane_stand_in(tmp_path / "calls")
    install_hook(work.path, command=command)
    return work, record


def recorded(record: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(record.read_text())
    assert data["argv"] == ["run", "--lane", "auto", "--pre-push"]
    assert data["remote"] == "origin"
    return data


def test_new_branch_push_compares_with_the_default_branch(hooked: tuple[Repo, Path]) -> None:
    work, record = hooked
    work.git("checkout", "-q", "-b", "topic")
    work.commit({"docs/guide.md": "Guide.\n"})
    work.commit({"README.md": "# more\n"})
    result = push(work, "origin", "topic")
    assert result.returncode == 0, result.stderr
    data = recorded(record)
    assert data["stdin"] == f"refs/heads/topic {work.sha()} refs/heads/topic {ZERO}\n"
    decision = data["decision"]
    assert decision["lane"] == "docs", data
    assert decision["changed"] == ["README.md", "docs/guide.md"]
    assert decision["base"] == work.sha("origin/main")
    assert "refs/heads/topic (new on origin): origin/main..." in decision["reasons"][1]


def test_push_of_two_refs_is_one_change_set(hooked: tuple[Repo, Path]) -> None:
    work, record = hooked
    work.git("checkout", "-q", "-b", "docs-work")
    work.commit({"docs/a.md": "A.\n"})
    work.git("checkout", "-q", "-b", "code-work", "main")
    work.commit({"src/app.py": "print('b')\n"})
    result = push(work, "origin", "docs-work", "code-work")
    assert result.returncode == 0, result.stderr
    data = recorded(record)
    assert len(data["stdin"].splitlines()) == 2
    decision = data["decision"]
    assert decision["lane"] == "standard"
    assert decision["changed"] == ["docs/a.md", "src/app.py"]


def test_update_of_an_existing_branch(hooked: tuple[Repo, Path]) -> None:
    work, record = hooked
    before = work.sha("origin/main")
    work.commit({"pyproject.toml": "[project]\nname = 'z'\n"})
    result = push(work, "origin", "main")
    assert result.returncode == 0, result.stderr
    decision = recorded(record)["decision"]
    assert decision["lane"] == "heavy"
    assert decision["base"] == before
    assert decision["reasons"][0] == "pyproject.toml (pyproject.toml) matches detect.heavy"


def test_deleted_branch_checks_nothing(hooked: tuple[Repo, Path]) -> None:
    work, record = hooked
    work.git("checkout", "-q", "-b", "old")
    work.commit({"src/app.py": "print('old')\n"})
    assert push(work, "origin", "old", WORKFLOW_SKIP="1").returncode == 0
    result = push(work, "origin", "--delete", "old")
    assert result.returncode == 0, result.stderr
    decision = recorded(record)["decision"]
    assert decision["lane"] is None
    assert decision["reasons"] == [
        "nothing changed in the push to origin",
        "refs/heads/old is being deleted on origin: nothing to check there",
    ]


def test_push_lines_from_git_directly(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    base = work.sha()
    work.git("checkout", "-q", "-b", "a")
    tip_a = work.commit({"docs/a.md": "A.\n"})
    lines = [
        f"refs/heads/a {tip_a} refs/heads/a {ZERO}",
        f"(delete) {ZERO} refs/heads/gone {base}",
        f"refs/heads/main {base} refs/heads/main {base}",
    ]
    decision = decide_lane(work.path, DETECT, push_lines=lines, env={})
    assert decision.lane is Lane.DOCS
    assert decision.changed == ("docs/a.md",)


def test_remote_commit_missing_locally_is_heavy(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    unknown = "1234567890" * 4
    lines = [f"refs/heads/main {work.sha()} refs/heads/main {unknown}"]
    decision = decide_lane(work.path, DETECT, push_lines=lines, env={})
    assert decision.lane is Lane.HEAVY
    assert "the commit origin has for refs/heads/main 123456789012" in decision.reasons[0]


def test_without_origin_head_a_new_branch_is_compared_with_origin_main(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    work.git("remote", "set-head", "origin", "--delete")
    work.git("checkout", "-q", "-b", "x")
    work.commit({"docs/x.md": "X.\n"})
    lines = [f"refs/heads/x {work.sha()} refs/heads/x {ZERO}"]
    decision = decide_lane(work.path, DETECT, push_lines=lines, env={})
    assert decision.lane is Lane.DOCS
    assert decision.base == work.sha("origin/main")


def test_new_branch_without_a_known_default_branch_is_heavy(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    work.git("remote", "set-head", "origin", "--delete")
    work.git("update-ref", "-d", "refs/remotes/origin/main")
    lines = [f"refs/heads/x {work.sha()} refs/heads/x {ZERO}"]
    decision = decide_lane(work.path, DETECT, push_lines=lines, env={})
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == (
        "refs/heads/x (new on origin) is compared with the default branch of origin, which "
        "is unknown (`git remote set-head origin --auto` records it), so every check runs",
    )
