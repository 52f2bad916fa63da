"""Stages do not edit the sources: real git, real ruff, real stages that write files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lanes_repo import (
    init_repo,
    workflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("isolated_git")]
PY = json.dumps(sys.executable)


def record_of(output: str) -> dict[str, Any]:
    line = next(line for line in output.splitlines() if line.startswith("reports: "))
    data: dict[str, Any] = json.loads(
        (Path(line.removeprefix("reports: ")) / "run.json").read_text()
    )
    return data


def stages_of(output: str) -> dict[str, dict[str, Any]]:
    return {stage["name"]: stage for stage in record_of(output)["stages"]}


def test_ruff_with_fix_true_fails_on_an_unused_import_and_leaves_the_file(
    tmp_path: Path,
) -> None:
    source = "import os\n\nVALUE = 1\n"
    repo = init_repo(
        tmp_path / "project",
        {"pyproject.toml": "[tool.ruff]\nfix = true\nunsafe-fixes = true\n", "pkg/mod.py": source},
    )
    # The built-in stages: lint is `ruff check --no-fix`, whatever the project sets.
    done = workflow(repo.path, "run", "--lane", "heavy", "--only", "lint", "--no-history")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "F401" in done.stdout
    assert (repo.path / "pkg" / "mod.py").read_text() == source
    assert "sets fix = true" in done.stderr
    # A configured `ruff check` that fixes: the stage fails, naming the file it changed.
    repo.commit({"workflow.toml": '[stages.lint]\nrun = ["ruff", "check", "."]\n'})
    done = workflow(repo.path, "run", "--lane", "heavy", "--no-history")
    assert done.returncode == 1, done.stdout + done.stderr
    lint = stages_of(done.stdout)["lint"]
    assert lint["status"] == "failed"
    assert "pkg/mod.py (modified)" in lint["error"]
    assert lint["changed_files"] == [{"path": "pkg/mod.py", "change": "modified"}]
    assert lint["cache"]["stored"] is False


def test_a_stage_that_edits_adds_or_removes_files_fails_naming_them(tmp_path: Path) -> None:
    repo = init_repo(
        tmp_path / "project",
        {
            ".gitignore": "ignored/\n",
            "keep.txt": "kept\n",
            "gone.txt": "to be removed\n",
            "edit.txt": "before\n",
            "workflow.toml": (
                "[stages.messy]\n"
                f"run = [{PY}, '-c', '''\n"
                "import os, pathlib\n"
                "pathlib.Path('edit.txt').write_text('after')\n"
                "os.remove('gone.txt')\n"
                "pathlib.Path('new.txt').write_text('new')\n"
                "pathlib.Path('ignored').mkdir()\n"
                "pathlib.Path('ignored/out.txt').write_text('fine')\n"
                "pathlib.Path('__pycache__').mkdir()\n"
                "pathlib.Path('__pycache__/m.cpython-311.pyc').write_bytes(b'')\n"
                "pathlib.Path('.coverage').write_text('data')\n"
                "''']\n"
                "[stages.tidy]\n"
                f"run = [{PY}, '-c', 'print(1)']\n"
                "needs = ['messy']\n"
            ),
        },
    )
    done = workflow(repo.path, "run", "--lane", "heavy", "--no-history")
    assert done.returncode == 1, done.stdout + done.stderr
    stages = stages_of(done.stdout)
    assert stages["messy"]["status"] == "failed"
    assert stages["messy"]["exit_code"] == 0  # the tool passed; the edit failed it
    assert stages["messy"]["changed_files"] == [
        {"path": "edit.txt", "change": "modified"},
        {"path": "gone.txt", "change": "deleted"},
        {"path": "new.txt", "change": "added"},
    ]
    assert "edit.txt (modified), gone.txt (deleted), new.txt (added)" in stages["messy"]["error"]
    assert stages["tidy"]["status"] == "skipped"  # what needs it does not run on a lie
    assert "messy: failed" in done.stdout


def test_a_stage_that_writes_on_purpose_lists_its_changes_and_is_not_cached(
    tmp_path: Path,
) -> None:
    repo = init_repo(
        tmp_path / "project",
        {
            "gen.txt": "old\n",
            "workflow.toml": (
                "[stages.generate]\n"
                f'run = [{PY}, \'-c\', \'open("gen.txt", "w").write("new")\']\n'
                "writes = true\n"
                "[stages.check]\n"
                f"run = [{PY}, '-c', 'print(1)']\n"
            ),
        },
    )
    done = workflow(repo.path, "run", "--lane", "heavy", "--no-history")
    assert done.returncode == 0, done.stdout + done.stderr
    stages = stages_of(done.stdout)
    generate = stages["generate"]
    assert generate["status"] == "passed"
    assert generate["serial"] is True  # it runs alone: its changes are its own
    assert generate["changed_files"] == [{"path": "gen.txt", "change": "modified"}]
    assert generate["cache"]["stored"] is False
    assert "writes = true" in generate["cache"]["reason"]
    assert stages["check"]["changed_files"] == []
    assert "generate: passed in" in done.stdout and "it wrote gen.txt (modified)" in done.stdout
    # Run again: the generator runs again (a pass that wrote files is never reused).
    again = workflow(repo.path, "run", "--lane", "heavy", "--no-history")
    assert again.returncode == 0, again.stdout + again.stderr
    assert stages_of(again.stdout)["generate"]["cache"]["hit"] is False


def test_bytecode_and_tool_caches_are_not_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(
        tmp_path / "project",
        {
            "pkg/__init__.py": "",
            "pkg/core.py": "VALUE = 1\n",
            "workflow.toml": f"[stages.imports]\nrun = [{PY}, '-c', 'import pkg.core']\n",
        },
    )
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    done = workflow(repo.path, "run", "--lane", "heavy", "--no-history")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo.path / "pkg" / "__pycache__").is_dir()  # written, and not a source
    assert "?? .workflow" not in repo.git("status", "--porcelain")  # .workflow ignores itself
