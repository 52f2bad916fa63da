"""`workflow install-hook` where the hook cannot be written: one sentence, exit 2.

Real git repositories and real `workflow` processes. The hooks directory (core.hooksPath)
is a path through a regular file (ENOTDIR), a 300-byte name (ENAMETOOLONG), or a new
directory under /sys, which the kernel refuses even to root (EPERM); none exists, so
nothing outside tmp_path changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    init_repo,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

CASES = {
    "through a regular file": ("README.md/hooks", "Not a directory"),
    "a name too long": ("h" * 300, "File name too long"),
    "refused by the kernel": ("/sys/workflow-test-hooks", "Operation not permitted"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hook_that_cannot_be_written_is_one_sentence_and_exit_2(
    tmp_path: Path, case: str
) -> None:
    hooks_path, words = CASES[case]
    repo = init_repo(tmp_path / "repo", {"README.md": "x\n"})
    repo.git("config", "core.hooksPath", hooks_path)
    result = workflow(repo.path, "install-hook")
    assert result.returncode == 2
    hook = (repo.path / hooks_path / "pre-push") if not hooks_path.startswith("/") else None
    expected = f"{hook or Path(hooks_path) / 'pre-push'}: cannot write the hook: {words}."
    assert result.stderr.strip().splitlines() == [f"workflow: {expected}"]
    assert result.stdout == ""
