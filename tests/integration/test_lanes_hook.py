"""`workflow install-hook`: where the hook goes, foreign hooks, backups, skipping."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from lanes.hook import MARKER, install_hook
from tests.helpers.lanes_repo import (
    Repo,
    git,
    init_repo,
    lane_stand_in,
    push,
    remote_and_clone,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

FOREIGN = """#!/bin/sh
# someone else's pre-push hook: keeps what git wrote on stdin, then says so
cat > "$(dirname -- "$0")/../../../calls/backup-stdin.txt"
echo "backup $1" >> "$(dirname -- "$0")/../../../calls/calls.log"
exit "${FOREIGN_EXIT:-0}"
"""


def hooks_dir(repo: Repo) -> Path:
    return repo.path / ".git" / "hooks"


def write_foreign_hook(repo: Repo) -> Path:
    hook = hooks_dir(repo) / "pre-push"
    hook.write_text(FOREIGN)
    hook.chmod(0o755)
    return hook


def test_install_writes_an_executable_hook_that_names_this_python(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    result = workflow(repo.path, "install-hook")
    assert result.returncode == 0, result.stderr
    hook = hooks_dir(repo) / "pre-push"
    assert result.stdout.startswith(f"pre-push hook installed: {hook}")
    text = hook.read_text()
    assert MARKER in text
    assert (
        f"exec {Path(sys.executable).absolute()} -m orchestrator run --lane auto --pre-push" in text
    )
    assert hook.stat().st_mode & stat.S_IXUSR
    assert not [p.name for p in hooks_dir(repo).iterdir() if p.name.startswith(".pre-push")]
    again = workflow(repo.path, "install-hook")
    assert again.returncode == 0
    assert again.stdout.startswith("pre-push hook updated")


def test_relative_core_hooks_path_is_honoured(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    repo.git("config", "core.hooksPath", ".githooks")
    assert workflow(repo.path / "src", "install-hook").returncode == 0
    text = (repo.path / ".githooks" / "pre-push").read_text()
    assert MARKER in text
    assert "cd --" not in text  # src/ has no configuration: the project is the top
    assert not (hooks_dir(repo) / "pre-push").exists()


def test_a_worktree_shares_the_main_hooks(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    repo.git("worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    result = workflow(tmp_path / "side", "install-hook")
    assert result.returncode == 0, result.stderr
    assert MARKER in (hooks_dir(repo) / "pre-push").read_text()


def test_a_submodule_gets_its_own_hook(tmp_path: Path) -> None:
    library = init_repo(tmp_path / "library")
    repo = init_repo(tmp_path / "repo")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "lib")
    result = workflow(repo.path / "lib", "install-hook")
    assert result.returncode == 0, result.stderr
    assert MARKER in (repo.path / ".git" / "modules" / "lib" / "hooks" / "pre-push").read_text()
    assert not (hooks_dir(repo) / "pre-push").exists()


def test_a_foreign_hook_is_refused_without_force(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    hook = write_foreign_hook(repo)
    result = workflow(repo.path, "install-hook")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"workflow: {hook}: a pre-push hook that workflow did not write is in the way; "
        "--force keeps it as pre-push.workflow-backup and runs it first."
    )
    assert hook.read_text() == FOREIGN


def test_force_keeps_the_old_hook_and_runs_it_first_on_the_same_input(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    write_foreign_hook(work)
    command, record = lane_stand_in(tmp_path / "calls")
    assert install_hook(work.path, force=True, command=command).backup is not None
    assert (hooks_dir(work) / "pre-push.workflow-backup").read_text() == FOREIGN
    work.commit({"docs/new.md": "New.\n"})
    result = push(work, "origin", "main")
    assert result.returncode == 0, result.stderr
    calls = tmp_path / "calls"
    assert (calls / "calls.log").read_text() == "backup origin\nworkflow\n"
    data = json.loads(record.read_text())
    assert (calls / "backup-stdin.txt").read_text() == data["stdin"]
    assert data["stdin"].startswith(f"refs/heads/main {work.sha()} refs/heads/main ")
    assert data["decision"]["lane"] == "docs"


def test_a_failing_old_hook_stops_the_push(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    write_foreign_hook(work)
    command, _record = lane_stand_in(tmp_path / "calls")
    install_hook(work.path, force=True, command=command)
    work.commit({"docs/new.md": "New.\n"})
    result = push(work, "origin", "main", FOREIGN_EXIT="3")
    assert result.returncode != 0
    assert (tmp_path / "calls" / "calls.log").read_text() == "backup origin\n"


def test_force_does_not_overwrite_an_existing_backup(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write_foreign_hook(repo)
    (hooks_dir(repo) / "pre-push.workflow-backup").write_text("#!/bin/sh\n")
    result = workflow(repo.path, "install-hook", "--force")
    assert result.returncode == 2
    assert "a backup of an earlier hook is already there" in result.stderr


def test_uninstall_restores_the_old_hook_and_leaves_foreign_ones(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    hook = write_foreign_hook(repo)
    assert workflow(repo.path, "install-hook", "--force").returncode == 0
    result = workflow(repo.path, "install-hook", "--uninstall")
    assert result.returncode == 0, result.stderr
    assert "the previous hook was put back" in result.stdout
    assert hook.read_text() == FOREIGN
    assert os.access(hook, os.X_OK)
    assert not (hooks_dir(repo) / "pre-push.workflow-backup").exists()
    refused = workflow(repo.path, "install-hook", "--uninstall")
    assert refused.returncode == 2
    assert "was not written by workflow; left alone" in refused.stderr
    assert hook.read_text() == FOREIGN


def test_uninstall_removes_our_hook(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    assert workflow(repo.path, "install-hook").returncode == 0
    assert workflow(repo.path, "install-hook", "--uninstall").returncode == 0
    assert not (hooks_dir(repo) / "pre-push").exists()
    result = workflow(repo.path, "install-hook", "--uninstall")
    assert result.returncode == 0
    assert "not installed; nothing to remove" in result.stdout


def test_workflow_skip_skips_and_says_so(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    command, record = lane_stand_in(tmp_path / "calls")
    install_hook(work.path, command=command)
    work.commit({"src/app.py": "print('skip')\n"})
    result = push(work, "origin", "main", WORKFLOW_SKIP="1")
    assert result.returncode == 0, result.stderr
    assert "workflow: WORKFLOW_SKIP=1: skipping the pre-push checks." in result.stderr
    assert not record.exists()


def test_a_failing_check_stops_the_push(tmp_path: Path) -> None:
    bare, work = remote_and_clone(tmp_path)
    install_hook(work.path, command=[sys.executable, "-c", "import sys; sys.exit(1)"])
    work.commit({"src/app.py": "print('rejected')\n"})
    result = push(work, "origin", "main")
    assert result.returncode != 0
    assert git(bare, "rev-parse", "main") != work.sha()


def test_the_hook_runs_in_the_project_it_was_installed_from(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    work.commit({"service/workflow.toml": "", "service/pkg/x.py": "x = 1\n"})
    work.git("push", "-q", "origin", "main")
    command, record = lane_stand_in(tmp_path / "calls")
    install_hook(work.path / "service" / "pkg", command=command)
    work.commit({"service/docs/a.md": "A.\n", "src/app.py": "print('outside')\n"})
    assert push(work, "origin", "main").returncode == 0
    data = json.loads(record.read_text())
    assert Path(data["cwd"]) == (work.path / "service").resolve()
    assert data["decision"]["changed"] == ["docs/a.md"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = workflow(plain, "install-hook")
    assert result.returncode == 2
    assert result.stderr.strip() == f"workflow: {plain} is not inside a git repository."
    repo = init_repo(tmp_path / "repo")
    both = workflow(repo.path, "install-hook", "--force", "--uninstall")
    assert both.returncode == 2
    assert "cannot be used together" in both.stderr
