"""`cache_verify`: would-be hits run anyway; a stored pass that now fails is a divergence.

A real git repository, the real `workflow` command and a real inner pytest whose test
reads a data file git ignores: a change there is one no key can see, so the stored pass
would be reused. With `cache_verify = 1` the run checks it, fails with the stage's real
result, removes the entry and says so in the record and every report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cache_repo import git
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

TEST = (
    "from pathlib import Path\n\n\ndef test_expected():\n"
    "    assert Path('expected.txt').read_text() == 'yes\\n'\n"
)


def project(root: Path, verify: float) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_data.py"]
    (root / "workflow.toml").write_text(
        f'[workflow]\nhistory = ""\ncache_verify = {verify}\n\n'
        f"[stages.unit]\nrun = {json.dumps(argv)}\n"
    )
    (root / "test_data.py").write_text(TEST)
    (root / ".gitignore").write_text(".workflow/\n__pycache__/\nexpected.txt\n")
    (root / "expected.txt").write_text("yes\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    return root


def records(root: Path) -> list[dict[str, Any]]:
    paths = sorted((root / ".workflow" / "reports").glob("*/run.json"))
    return [json.loads(path.read_text()) for path in paths]


def test_a_stored_pass_that_now_fails_is_a_divergence(tmp_path: Path) -> None:
    root = project(tmp_path / "project", verify=0)
    assert workflow(root, "run", "--lane", "heavy").returncode == 0
    assert workflow(root, "run", "--lane", "heavy").returncode == 0  # reused
    assert records(root)[-1]["stages"][0]["cache"]["hit"] is True

    (root / "expected.txt").write_text("no\n")  # behind git's back: ignored, not a key input
    assert workflow(root, "run", "--lane", "heavy").returncode == 0  # the key cannot tell
    verified = workflow(root, "run", "--lane", "heavy", "--cache-verify", "1")
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "cache divergence: unit" in verified.stdout

    record = records(root)[-1]
    unit = record["stages"][0]
    assert unit["status"] == "failed"
    assert unit["cache"]["hit"] is False
    assert unit["cache"]["verified"] is True and unit["cache"]["diverged"] is True
    assert unit["cache"]["from_run"] == records(root)[0]["run_id"]
    assert record["cache_verify"]["rate"] == 1.0 and isinstance(record["cache_verify"]["seed"], int)
    run_dir = root / ".workflow" / "reports" / record["run_id"]
    for report in ("report.md", "report.html", "junit.xml"):
        assert "cache_verify ran it again" in (run_dir / report).read_text(), report

    # The entry is gone: the next run, with no verification, runs the stage for real.
    again = workflow(root, "run", "--lane", "heavy")
    assert again.returncode == 1, again.stdout
    assert records(root)[-1]["stages"][0]["cache"]["hit"] is False


def test_the_configured_share_is_verified_and_a_pass_that_holds_is_not_a_divergence(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "project", verify=1)
    assert workflow(root, "run", "--lane", "heavy").returncode == 0
    checked = workflow(root, "run", "--lane", "heavy")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unit = records(root)[-1]["stages"][0]
    assert unit["cache"]["verified"] is True and unit["cache"]["diverged"] is False
    assert unit["cache"]["hit"] is False and unit["attempts"] == 1  # it ran
    unchecked = workflow(root, "run", "--lane", "heavy", "--cache-verify", "0")
    assert unchecked.returncode == 0
    assert records(root)[-1]["stages"][0]["cache"]["hit"] is True
    assert records(root)[-1]["cache_verify"] is None
