"""decide_lane on real repositories: ranges, merge bases, work trees, shallow clones."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanes.changes import Status
from lanes.decide import decide_lane, read_changes
from orchestrator.model.config import DetectConfig, Lane
from tests.helpers.lanes_repo import (
    DETECT,
    Repo,
    git,
    init_repo,
    remote_and_clone,
)

pytestmark = pytest.mark.usefixtures("isolated_git")


@pytest.fixture
def work(tmp_path: Path) -> Repo:
    """A clone of `origin` on a new branch `topic`."""
    _bare, repo = remote_and_clone(tmp_path)
    repo.git("checkout", "-q", "-b", "topic")
    return repo


def test_docs_only_change_is_docs(work: Repo) -> None:
    work.commit({"README.md": "# better\n", "docs/new.md": "New page.\n"})
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.DOCS, decision.reasons
    assert decision.changed == ("README.md", "docs/new.md")
    assert decision.base == work.sha("origin/main")
    assert "origin/main...HEAD (merge base" in decision.reasons[1]


def test_pyproject_change_is_heavy(work: Repo) -> None:
    work.commit({"pyproject.toml": "[project]\nname = 'y'\n", "README.md": "x\n"})
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.HEAVY
    assert decision.reasons[0] == "pyproject.toml (pyproject.toml) matches detect.heavy"


def test_fifty_changed_files_are_heavy(work: Repo) -> None:
    work.commit({f"src/module_{i}.py": f"VALUE = {i}\n" for i in range(50)})
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.HEAVY
    assert decision.reasons[0] == "50 files changed, more than detect.heavy_files (40)"


def test_many_changed_lines_are_heavy(work: Repo) -> None:
    work.commit({"src/app.py": "x = 1\n" * 801})
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.HEAVY
    # 801 added, 1 deleted: numstat counts both
    assert decision.reasons[0] == "802 lines changed, more than detect.heavy_lines (800)"


def test_ordinary_code_change_is_standard(work: Repo) -> None:
    work.commit({"src/app.py": "print('better')\n", "docs/index.md": "More.\n"})
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.STANDARD
    assert "(src/app.py)" in decision.reasons[0]


def test_rename_from_docs_to_src_is_not_docs(work: Repo) -> None:
    work.git("mv", "docs/index.md", "src/index.py")
    work.commit()
    changes = read_changes(work.path, base="origin/main")
    assert [(c.old_path, c.path, c.status) for c in changes.files] == [
        ("docs/index.md", "src/index.py", Status.RENAMED)
    ]
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.STANDARD
    assert decision.changed == ("docs/index.md", "src/index.py")


def test_deleting_code_is_standard(work: Repo) -> None:
    work.git("rm", "-q", "src/app.py")
    work.commit()
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is Lane.STANDARD
    assert decision.changed == ("src/app.py",)


def test_the_range_starts_at_the_merge_base(work: Repo) -> None:
    work.commit({"docs/topic.md": "Topic.\n"})
    work.git("checkout", "-q", "main")
    work.commit({"pyproject.toml": "[project]\nname = 'main moved on'\n"})
    fork = work.git("merge-base", "main", "topic")
    decision = decide_lane(work.path, DETECT, base="main", head="topic")
    assert decision.lane is Lane.DOCS, decision.reasons
    assert decision.base == fork


def test_unrelated_histories_compare_directly(work: Repo) -> None:
    work.git("checkout", "-q", "--orphan", "other")
    work.git("rm", "-q", "-r", "--cached", ".")
    work.commit({"README.md": "# other\n"}, "unrelated")
    decision = decide_lane(work.path, DETECT, base="main", head="other")
    assert decision.base == work.sha("main")
    assert any("main..other (no common history)" in reason for reason in decision.reasons)


def test_unknown_ref_is_heavy(work: Repo) -> None:
    decision = decide_lane(work.path, DETECT, base="no-such-branch")
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == (
        "the base no-such-branch is not a commit in this repository: "
        "the changes are unknown, so every check runs",
    )


def test_not_a_git_checkout_is_heavy(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    decision = decide_lane(plain, DETECT, base="main")
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == (f"{plain} is not inside a git checkout, so every check runs",)


def test_no_change_is_nothing_to_check(work: Repo) -> None:
    decision = decide_lane(work.path, DETECT, base="origin/main")
    assert decision.lane is None
    assert decision.reasons[0].startswith("nothing changed in origin/main...HEAD")


def test_locally_uncommitted_and_untracked_files_count(work: Repo) -> None:
    work.git("checkout", "-q", "main")  # tracks origin/main
    assert decide_lane(work.path, DETECT, env={}).lane is None
    work.write({"README.md": "# edited, not committed\n"})
    decision = decide_lane(work.path, DETECT, env={})
    assert decision.lane is Lane.DOCS, decision.reasons
    assert "origin/main...HEAD" in decision.reasons[1]
    assert "and the work tree" in decision.reasons[1]
    work.write({"src/new.py": "x = 1\n"})
    decision = decide_lane(work.path, DETECT, env={})
    assert decision.lane is Lane.STANDARD
    assert decision.changed == ("README.md", "src/new.py")


def test_without_upstream_origin_head_is_the_base(work: Repo) -> None:
    work.commit({"docs/more.md": "More.\n"})
    decision = decide_lane(work.path, DETECT, env={})
    assert decision.lane is Lane.DOCS
    assert "origin/HEAD...HEAD" in decision.reasons[1]


def test_nothing_to_compare_with_is_heavy(tmp_path: Path) -> None:
    lonely = init_repo(tmp_path / "lonely")
    decision = decide_lane(lonely.path, DETECT, env={})
    assert decision.lane is Lane.HEAVY
    assert "no upstream and origin/HEAD is not set" in decision.reasons[0]


def test_shallow_clone_without_the_base_is_heavy(tmp_path: Path) -> None:
    bare, work = remote_and_clone(tmp_path)
    work.commit({"src/app.py": "print(2)\n"})
    work.git("push", "-q", "origin", "main")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{bare}", "shallow")
    decision = decide_lane(tmp_path / "shallow", DETECT, base="HEAD~1")
    assert decision.lane is Lane.HEAVY
    assert "the base HEAD~1 is not a commit in this repository" in decision.reasons[0]
    assert "shallow clone" in decision.reasons[0]


def test_shallow_clone_without_the_merge_base_is_heavy(tmp_path: Path) -> None:
    bare, work = remote_and_clone(tmp_path)
    work.git("checkout", "-q", "-b", "topic")
    work.commit({"docs/topic.md": "Topic.\n"})
    work.git("checkout", "-q", "main")
    work.commit({"src/app.py": "print(3)\n"})
    work.git("push", "-q", "origin", "main", "topic")
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{bare}", "shallow")
    shallow = Repo(tmp_path / "shallow")
    shallow.git("checkout", "-q", "topic")
    decision = decide_lane(shallow.path, DETECT, base="origin/main")
    assert decision.lane is Lane.HEAVY
    assert "has no merge base in the fetched history" in decision.reasons[0]
    assert "shallow clone" in decision.reasons[0]


def test_a_project_in_a_subdirectory_sees_its_own_files(work: Repo) -> None:
    work.commit({"service/docs/a.md": "A.\n", "service/x.py": "x = 1\n"})
    work.git("push", "-q", "origin", "topic")
    work.commit({"service/docs/b.md": "B.\n", "src/app.py": "print('outside')\n"})
    decision = decide_lane(work.path / "service", DETECT, base="origin/topic")
    assert decision.lane is Lane.DOCS, decision.reasons
    assert decision.changed == ("docs/b.md",)


def test_custom_detect_rules_apply(work: Repo) -> None:
    work.commit({"docs/conf.py": "project = 'x'\n"})
    excluding = DetectConfig(docs=("docs/**", "!docs/conf.py"))
    assert decide_lane(work.path, DETECT, base="origin/main").lane is Lane.DOCS
    assert decide_lane(work.path, excluding, base="origin/main").lane is Lane.STANDARD


def test_changed_files_list_needs_no_git(tmp_path: Path) -> None:
    decision = decide_lane(tmp_path, DETECT, changed_files=["docs/a.md", "README.md", ""])
    assert decision.lane is Lane.DOCS
    assert decide_lane(tmp_path, DETECT, changed_files=[]).lane is None
