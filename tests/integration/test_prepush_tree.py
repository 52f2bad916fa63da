"""The hook vouches for what is pushed: each pushed commit is checked on its own tree.

Real `git push` through the hook `workflow install-hook` writes, from a shell whose PATH
lacks the virtualenv. The one stage reads `src/app.py` and fails when it says BROKEN, and
notes the directory it ran in, so a test sees which tree was checked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lanes.worktree import read_work_tree
from tests.helpers.lanes_repo import (
    git_env,
    init_repo,
    push,
    push_env,
    remote_and_clone,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

CHECK = """\
import os, pathlib, sys, time
text = pathlib.Path("src/app.py").read_text()
with open(os.environ["TREES"], "a") as trees:
    trees.write(os.getcwd() + "\\n")
hold = os.environ.get("HOLD")
if hold:
    pathlib.Path(hold + ".tmp").write_text(str(os.getppid()))
    os.replace(hold + ".tmp", hold)
    time.sleep(120)
sys.exit(1 if "BROKEN" in text else 0)
"""
CONFIG = (
    '[workflow]\nhistory = ""\n'
    f'[stages.check]\nrun = [{json.dumps(sys.executable)}, "check.py"]\n'
    'inputs = ["src/**", "check.py"]\nkill_grace = 1\n'
)
GOOD = "value = 1\n"
BROKEN = "BROKEN = 1\n"


class Hooked:
    """A clone with the hook installed; what the stage saw is in `trees`."""

    def __init__(self, tmp_path: Path) -> None:
        self.bare, self.work = remote_and_clone(tmp_path)
        self.work.commit({"workflow.toml": CONFIG, "check.py": CHECK, "src/app.py": GOOD}, "checks")
        self.work.git("push", "-q", "origin", "main")
        installed = workflow(self.work.path, "install-hook")
        assert installed.returncode == 0, installed.stderr
        self.trees = tmp_path / "trees.txt"
        self.temp = tmp_path / "tmp"
        self.temp.mkdir()

    def push(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        self.trees.unlink(missing_ok=True)
        return push(self.work, *args, TREES=str(self.trees), TMPDIR=str(self.temp), **extra)

    def checked_in(self) -> list[str]:
        return self.trees.read_text().splitlines() if self.trees.exists() else []

    def remote_has(self, ref: str) -> str | None:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", ref],
            cwd=self.bare,
            env=git_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.strip() or None

    def assert_nothing_left(self) -> None:
        """No temporary worktree: not in `git worktree list`, not on disk, no branch."""
        listing = self.work.git("worktree", "list", "--porcelain")
        assert [line for line in listing.splitlines() if line.startswith("worktree ")] == [
            f"worktree {self.work.path}"
        ]
        assert not (self.work.path / ".git" / "worktrees").exists() or not any(
            (self.work.path / ".git" / "worktrees").iterdir()
        )
        assert list(self.temp.iterdir()) == []
        assert "workflow" not in self.work.git("branch", "--list", "--all")


@pytest.fixture
def hooked(tmp_path: Path) -> Hooked:
    return Hooked(tmp_path)


def test_another_branch_is_checked_on_its_own_tree_while_main_is_checked_out(
    hooked: Hooked,
) -> None:
    work = hooked.work
    work.git("checkout", "-q", "-b", "feature")
    broken = work.commit({"src/app.py": BROKEN}, "break it")
    work.git("checkout", "-q", "main")
    refused = hooked.push("origin", "feature")
    assert refused.returncode != 0, refused.stderr
    assert hooked.remote_has("feature") is None
    assert (
        f"workflow: checking the pushed commit {broken[:12]} (feature) in a temporary "
        f"worktree: it is not the checked-out commit ({work.sha()[:12]})" in refused.stderr
    )
    (tree,) = hooked.checked_in()
    assert hooked.temp.resolve() in Path(tree).parents  # its own tree, apart
    hooked.assert_nothing_left()
    # main's own tree is broken in the work tree now: feature, fixed, is what counts.
    work.git("checkout", "-q", "feature")
    fixed = work.commit({"src/app.py": GOOD}, "fix it")
    work.git("checkout", "-q", "main")
    (work.path / "src" / "app.py").write_text(BROKEN)
    accepted = hooked.push("origin", "feature")
    assert accepted.returncode == 0, accepted.stderr
    assert hooked.remote_has("feature") == fixed
    hooked.assert_nothing_left()


def test_the_hook_verifies_no_cached_pass_whatever_cache_verify_says(hooked: Hooked) -> None:
    work = hooked.work
    config = CONFIG.replace("[workflow]\n", "[workflow]\ncache_verify = 1.0\n")
    work.commit({"workflow.toml": config}, "verify every hit in CI")
    stored = hooked.push("origin", "main")
    assert stored.returncode == 0, stored.stderr
    assert len(hooked.checked_in()) == 1  # the pass the next push can reuse
    work.commit({"notes.txt": "not an input\n"}, "no input changes")
    pushed = hooked.push("origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert "check: passed (cached)" in pushed.stdout + pushed.stderr
    assert hooked.checked_in() == []  # a push waits for nothing CI will verify


def test_a_fix_left_uncommitted_does_not_pass_the_broken_commit(hooked: Hooked) -> None:
    work = hooked.work
    broken = work.commit({"src/app.py": BROKEN}, "break it")
    (work.path / "src" / "app.py").write_text(GOOD)  # the fix, not committed
    refused = hooked.push("origin", "main")
    assert refused.returncode != 0
    assert hooked.remote_has("main") != broken
    assert (
        f"checking the pushed commit {broken[:12]} (main) in a temporary worktree: the work "
        "tree differs from it under the stages' inputs (src/app.py)" in refused.stderr
    )
    hooked.assert_nothing_left()


def test_staged_edits_and_untracked_inputs_are_not_the_push_ignored_files_are_no_input(
    hooked: Hooked,
) -> None:
    work = hooked.work
    good = work.commit({"src/app.py": "value = 2\n"}, "good")
    (work.path / "src" / "app.py").write_text(BROKEN)
    work.git("add", "src/app.py")  # staged, not committed
    staged = hooked.push("origin", "main")
    assert staged.returncode == 0, staged.stderr
    assert "in a temporary worktree" in staged.stderr
    assert hooked.remote_has("main") == good
    work.git("reset", "-q", "--hard")
    work.commit({"src/app.py": "value = 3\n"}, "again")
    (work.path / "src" / "extra.py").write_text("x = 1\n")  # untracked, under the inputs
    untracked = hooked.push("origin", "main")
    assert untracked.returncode == 0, untracked.stderr
    assert "under the stages' inputs (src/extra.py)" in untracked.stderr
    (work.path / "src" / "extra.py").unlink()
    last = work.commit({"src/app.py": "value = 4\n", ".gitignore": ".workflow/\nsrc/*.log\n"})
    (work.path / "src" / "debug.log").write_text("ignored\n")  # git ignores it: no input
    (work.path / "README.md").write_text("# not an input of the stage\n")
    in_place = hooked.push("origin", "main")
    assert in_place.returncode == 0, in_place.stderr
    assert f"checking the pushed commit {last[:12]} (main) in place" in in_place.stderr
    assert hooked.checked_in() == [str(work.path)]
    hooked.assert_nothing_left()


def test_an_ignored_source_the_code_imports_is_not_the_push(hooked: Hooked) -> None:
    # A local `settings.py` git ignores: the stages would pass in place leaning on it, but
    # a clone of the pushed commit has none (the result cache keys such files too). The
    # check leaves the work tree, and the commit alone fails.
    work = hooked.work
    leaning = work.commit(
        {
            ".gitignore": ".workflow/\nsrc/settings.py\n",
            "check.py": CHECK.replace(
                'text = pathlib.Path("src/app.py").read_text()',
                'text = pathlib.Path("src/app.py").read_text()\n'
                'text += "" if pathlib.Path("src/settings.py").exists() else "BROKEN"',
            ),
        },
        "read local settings",
    )
    (work.path / "src" / "settings.py").write_text("LOCAL = 1\n")  # ignored by git
    refused = hooked.push("origin", "main")
    assert refused.returncode != 0, refused.stderr
    assert hooked.remote_has("main") != leaning
    assert (
        f"checking the pushed commit {leaning[:12]} (main) in a temporary worktree: the work "
        "tree differs from it under the stages' inputs (src/settings.py)" in refused.stderr
    )
    hooked.assert_nothing_left()


def test_every_distinct_pushed_commit_is_checked_and_the_worst_decides(hooked: Hooked) -> None:
    work = hooked.work
    work.git("checkout", "-q", "-b", "good")
    good = work.commit({"src/app.py": "value = 5\n"}, "good")
    work.git("checkout", "-q", "-b", "bad", "main")
    bad = work.commit({"src/app.py": BROKEN}, "bad")
    work.git("checkout", "-q", "good")
    work.git("tag", "-a", "-m", "release", "v1")  # an annotated tag: its commit is `good`
    result = hooked.push("origin", "good", "bad", "v1")
    assert result.returncode != 0
    assert f"checking the pushed commit {good[:12]} (good, v1) in place" in result.stderr
    assert f"checking the pushed commit {bad[:12]} (bad) in a temporary worktree" in result.stderr
    assert len(hooked.checked_in()) == 2  # two distinct commits, each checked once
    assert hooked.remote_has("bad") is None
    hooked.assert_nothing_left()


def test_pushing_an_older_commit_checks_that_commit(hooked: Hooked) -> None:
    work = hooked.work
    older = work.commit({"src/app.py": BROKEN}, "broken")
    work.commit({"src/app.py": "value = 7\n"}, "fixed")
    result = hooked.push("origin", "HEAD~1:refs/heads/old")
    assert result.returncode != 0
    assert f"checking the pushed commit {older[:12]} (HEAD~1) in a temporary" in result.stderr
    same = hooked.push("origin", "HEAD:refs/heads/other")
    assert same.returncode == 0, same.stderr
    assert "(HEAD) in place" in same.stderr
    hooked.assert_nothing_left()


def _push_in_background(hooked: Hooked, hold: Path) -> subprocess.Popen[str]:
    env = git_env(push_env(TREES=str(hooked.trees), TMPDIR=str(hooked.temp), HOLD=str(hold)))
    return subprocess.Popen(
        ["git", "push", "origin", "feature"],
        cwd=hooked.work.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )


def runs(pid: int) -> bool:
    """Whether the process is alive; a zombie is not (it runs nothing, and reaping it is
    its new parent's business: init, or a subreaper such as an outer workflow run)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [
        (signal.SIGINT, True),
        (signal.SIGTERM, False),
        (signal.SIGHUP, True),
        (signal.SIGKILL, False),
    ],
    ids=["ctrl-c", "sigterm", "hangup", "sigkill"],
)
def test_an_interrupted_hook_leaves_no_worktree_behind(
    hooked: Hooked, tmp_path: Path, signum: int, to_group: bool
) -> None:
    work = hooked.work
    work.git("checkout", "-q", "-b", "feature")
    work.commit({"src/app.py": "value = 6\n"}, "feature")
    work.git("checkout", "-q", "main")
    hold = tmp_path / "held"
    pushing = _push_in_background(hooked, hold)
    try:
        _wait_for(hold)  # the stage runs in the temporary worktree now
        assert len(work.git("worktree", "list").splitlines()) == 2
        workflow_pid = int(hold.read_text())
        if to_group:
            os.killpg(pushing.pid, signum)  # what a terminal does to its foreground job
        else:
            os.kill(workflow_pid, signum)
        pushing.communicate(timeout=60)
        # workflow ends, or (killed outright) its watchdog cleans up: allow it a moment.
        deadline = time.monotonic() + 20
        while runs(workflow_pid) or any(hooked.temp.iterdir()):
            assert time.monotonic() < deadline, "the worktree or workflow outlived the push"
            time.sleep(0.1)
        deadline = time.monotonic() + 20
        while len(work.git("worktree", "list").splitlines()) > 1:
            assert time.monotonic() < deadline, work.git("worktree", "list")
            time.sleep(0.1)
    finally:
        if pushing.poll() is None:
            os.killpg(pushing.pid, signal.SIGKILL)
            pushing.wait()
    hooked.assert_nothing_left()
    assert hooked.remote_has("feature") is None
    left = [
        p.pid for p in psutil.process_iter(["cmdline"]) if "check.py" in (p.info["cmdline"] or [])
    ]
    assert left == []


def test_the_work_trees_reading_copes_with_an_unborn_head_and_a_tag_of_a_tree(
    tmp_path: Path,
) -> None:
    repo = init_repo(tmp_path / "repo")
    commit = repo.sha()
    repo.git("tag", "tree-only", "HEAD^{tree}")  # a ref that names no commit at all
    tree = repo.git("rev-parse", "tree-only")
    repo.git("checkout", "-q", "--orphan", "fresh")  # HEAD names no commit yet
    (repo.path / "new.txt").write_text("untracked\n")
    found = read_work_tree(repo.path / "src", [commit, tree])
    assert found.top == repo.path
    assert found.prefix == "src/"
    assert found.head is None
    assert found.commits == {commit: commit, tree: None}
    assert "new.txt" in found.changed
