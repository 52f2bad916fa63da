"""`workflow cache explain` says why the newest passes of a stage were not stored."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    init_repo,
    workflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("isolated_git")]


def test_explain_names_passes_that_needed_a_retry(tmp_path: Path) -> None:
    counter = tmp_path / "attempts"  # outside the project: no source is edited
    flaky = (
        f"import pathlib, sys; p = pathlib.Path({str(counter)!r}); "
        "n = int(p.read_text()) if p.exists() else 0; p.write_text(str(n + 1)); "
        "sys.exit(1 if n % 2 == 0 else 0)"
    )
    repo = init_repo(
        tmp_path / "project",
        {
            "workflow.toml": (
                "[workflow]\nhistory = ''\n"
                f"[stages.flaky]\nrun = [{json.dumps(sys.executable)}, '-c', {json.dumps(flaky)}]\n"
                "retries = 1\n"
            )
        },
    )
    for _ in range(2):
        done = workflow(repo.path, "run", "--lane", "heavy", env={"CI": "true"})
        assert done.returncode == 0, done.stdout + done.stderr
    explained = workflow(repo.path, "cache", "explain", "flaky")
    assert explained.returncode == 0, explained.stderr
    lines = explained.stdout.splitlines()
    assert lines[0].startswith("flaky: no pass of this stage is in the cache")
    assert lines[1] == "flaky: its last 2 passes were not stored:"
    assert lines[4] == "its key holds:"  # then what the key holds
    assert all(
        line.endswith(
            ": it needed a rerun (passed on attempt 2); only a first attempt's pass is stored"
        )
        for line in lines[2:4]
    )
