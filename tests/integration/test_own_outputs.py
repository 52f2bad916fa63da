"""What workflow wrote is never a change nor a cache input; a project path that only
starts with an output's name (`out-data/` beside reports in `out/`) always is.

Real git repositories, the real `workflow` command and real stage processes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from orchestrator.cache.key import KeyParts, StageIdentity
from orchestrator.configfile.load import load_config
from orchestrator.model.config import StageConfig
from orchestrator.model.ownpaths import own_output_of, with_companions
from orchestrator.pipeline.cachekeys import current_keys
from tests.helpers.lanes_repo import Repo, remote_and_clone, workflow

pytestmark = pytest.mark.integration

# The stage fails when the project's out-data/flag says so.
CHECK = "import pathlib, sys; sys.exit(pathlib.Path('out-data/flag').read_text().strip() != 'ok')"
CONFIG = (
    f"[stages.check]\nrun = [{json.dumps(sys.executable)}, '-c', {json.dumps(CHECK)}]\n"
    "[workflow]\nreports = 'out'\nhistory = 'state/h.db'\ncache = 'kept'\n"
)


def project(tmp_path: Path) -> Repo:
    _bare, repo = remote_and_clone(tmp_path)
    repo.commit({"workflow.toml": CONFIG, "out-data/flag": "ok\n"}, "config")
    repo.git("push", "-q", "origin", "main")
    return repo


def test_a_change_beside_the_reports_directory_is_not_a_cache_hit(tmp_path: Path) -> None:
    repo = project(tmp_path)
    first = workflow(repo.path, "run", "--lane", "heavy")
    assert first.returncode == 0, first.stderr
    repo.commit({"out-data/flag": "fail\n"}, "the flag now fails the stage")
    second = workflow(repo.path, "run", "--lane", "heavy", "--format", "json")
    assert second.returncode == 1, second.stdout + second.stderr
    records = sorted((repo.path / "out").glob("*/run.json"))
    record = json.loads(records[-1].read_text())
    (check,) = record["stages"]
    assert check["status"] == "failed"
    assert not (check.get("cache") or {}).get("hit")


def test_a_change_beside_the_reports_directory_decides_the_lane(tmp_path: Path) -> None:
    repo = project(tmp_path)
    repo.commit({"out-data/flag": "fail\n"}, "a project file that starts like an output")
    result = workflow(repo.path, "lane", "--json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["changed"] == ["out-data/flag"]
    assert decision["lane"] != "nothing"
    assert not any("own output" in reason for reason in decision["reasons"])


def test_only_the_history_file_has_companions(tmp_path: Path) -> None:
    repo = project(tmp_path)
    loaded = load_config(cwd=repo.path)
    history = repo.path / "state" / "h.db"
    outputs = loaded.own_outputs()
    assert set(with_companions(history)) <= set(outputs)
    relative = [os.path.relpath(path, repo.path) for path in outputs]
    assert own_output_of("state/h.db-wal", relative) == "state/h.db-wal"
    assert own_output_of("state/h.db-backup", relative) is None
    assert own_output_of("out-data/flag", relative) is None
    assert own_output_of("kept-notes.md", relative) is None
    assert own_output_of("out/run/run.json", relative) == "out"


def test_the_cache_key_takes_paths_beside_outputs_and_leaves_out_the_journals(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path)
    loaded = load_config(cwd=repo.path)
    stage = StageIdentity("check", StageConfig(run=("true",)), repo.path, loaded.own_outputs())
    repo.write({"state/h.db": "db", "state/h.db-wal": "wal", "state/h.db-journal": "j"})
    repo.write({"kept-notes.md": "a project file", "out/x/run.json": "{}"})
    parts = current_keys([stage], dict(os.environ), bytes(32))["check"]
    assert isinstance(parts, KeyParts), parts
    # The user's own configuration (`~config/...`, `~/...`) is in every key too.
    assert sorted(p for p in parts.inputs if not p.startswith("~")) == [
        ".gitignore",
        "README.md",
        "docs/index.md",
        "kept-notes.md",
        "out-data/flag",
        "pyproject.toml",
        "src/app.py",
        "workflow.toml",
    ]
