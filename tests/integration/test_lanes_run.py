"""End to end: a pushed docs-only change runs only the DOCS stages, through the real hook."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    push,
    remote_and_clone,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")


def config(tmp_path: Path) -> str:
    python = json.dumps(sys.executable)
    return (
        '[workflow]\nhistory = ""\nreports = ".workflow/reports"\n'
        f'[stages.lint]\nrun = [{python}, "-c", "print(1)"]\n'
        f'[stages.unit]\nrun = [{python}, "-c", "print(2)"]\n'
        '[lanes.docs]\nstages = ["lint"]\n'
    )


def test_a_pushed_docs_only_change_runs_only_the_docs_stages(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    work.commit({"workflow.toml": config(tmp_path)})
    installed = workflow(work.path, "install-hook")
    assert installed.returncode == 0, installed.stderr
    assert push(work, "origin", "main", WORKFLOW_SKIP="1").returncode == 0
    work.commit({"docs/guide.md": "Guide.\n", "README.md": "# docs only\n"})
    result = push(work, "origin", "main")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    found = re.search(r"^(?:remote: )?reports: (.+)$", output, re.MULTILINE)
    assert found, output
    record = json.loads((Path(found.group(1).strip()) / "run.json").read_text())
    assert record["lane"] == "docs"
    assert [stage["name"] for stage in record["stages"]] == ["lint"]
    assert any("detect.docs" in reason for reason in record["lane_reasons"])
