"""git's own refusal is the reason: a checkout git will not touch ("detected dubious
ownership": a container job as root on the runner's workspace) is never "not a git
checkout", and the result cache does not turn off without a word.

Reproduced for real: the checkout is handed to another user (chown), so git, run by this
test's user, refuses it; git's configuration is kept out (GIT_CONFIG_GLOBAL), so no
`safe.directory` of this machine's applies.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    init_repo,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

OTHER_UID = 54321


def _chown_tree(root: Path, uid: int) -> None:
    for directory, _dirs, files in os.walk(root):
        os.chown(directory, uid, uid)
        for name in files:
            os.chown(Path(directory) / name, uid, uid)


def test_a_checkout_git_refuses_is_quoted_with_its_fix(tmp_path: Path) -> None:
    argv = json.dumps([sys.executable, "-c", "print('checked')"])
    pytest_argv = json.dumps([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    config = (
        f'[stages.check]\nrun = {argv}\n\n[stages.unit]\nrun = {pytest_argv}\nselect = "affected"\n'
    )
    repo = init_repo(
        tmp_path / "repo",
        {
            "workflow.toml": config,
            ".gitignore": ".workflow/\n",
            "test_it.py": "def test_it():\n    assert True\n",
        },
    )
    _chown_tree(repo.path, OTHER_UID)
    try:
        lane = workflow(repo.path, "lane")
        assert lane.returncode == 0, lane.stderr
        refusal = (
            f"git refuses the repository: detected dubious ownership in repository at "
            f"'{repo.path}' (`git config --global --add safe.directory {repo.path}` trusts it)"
        )
        assert lane.stdout.splitlines() == [
            "lane: heavy",
            f"  because {refusal}, so every check runs",
        ]
        run = workflow(repo.path, "run", "--lane", "auto", env={"CI": "true"})
        assert run.returncode == 0, run.stdout + run.stderr
        assert (
            f"workflow: warning: the result cache is not used: {refusal}; "
            "its inputs cannot be known"
        ) in run.stderr.splitlines()
        (record_file,) = (repo.path / ".workflow" / "reports").glob("*/run.json")
        record = json.loads(record_file.read_text())
        assert record["lane_reasons"] == [f"{refusal}, so every check runs"]
        check, unit = record["stages"]
        assert check["cache"]["reason"] == f"{refusal}; its inputs cannot be known"
        # Test selection cannot map a change git will not show: every test runs, and why.
        assert unit["tests"]["selection"]["reason"] == (
            f"everything runs: {refusal}, so no change can be mapped"
        )
        assert unit["tests"]["passed"] == 1
        hook = workflow(repo.path, "install-hook")
        assert hook.returncode == 2
        assert hook.stderr.strip() == f"workflow: {repo.path}: {refusal}."
    finally:
        _chown_tree(repo.path, os.getuid())
