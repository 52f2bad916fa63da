"""The lane looks only at the project's own changes: never at what workflow wrote, and
`--changed-files` paths are the project's paths however they are spelled.

Real git repositories and the real `workflow` command.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.lanes_repo import Repo, remote_and_clone, workflow


def repo_without_ignore(tmp_path: Path) -> Repo:
    _bare, repo = remote_and_clone(tmp_path)
    repo.git("rm", "-q", ".gitignore")  # workflow's outputs must not need it
    repo.commit(message="no ignore file")
    repo.git("push", "-q", "origin", "main")
    (repo.path / "workflow.toml").write_text(
        "[stages.lint]\nrun = ['true']\n[workflow]\nhistory = 'state/h.db'\nreports = 'out'\n"
        "cache = 'kept'\n"
    )
    repo.commit(message="config")
    repo.git("push", "-q", "origin", "main")
    return repo


def lane_of(repo: Repo, *args: str) -> dict[str, object]:
    result = workflow(repo.path, "lane", "--json", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_workflow_s_own_outputs_never_change_the_lane(tmp_path: Path) -> None:
    repo = repo_without_ignore(tmp_path)
    (repo.path / "README.md").write_text("# project\nmore\n")
    assert lane_of(repo)["lane"] == "docs"
    for _ in range(2):
        run = workflow(repo.path, "run", "--lane", "heavy")
        assert run.returncode == 0, run.stderr
    assert (repo.path / "state" / "h.db").is_file()
    assert any((repo.path / "out").iterdir())
    (repo.path / "kept" / "entry").mkdir(parents=True, exist_ok=True)
    (repo.path / "kept" / "entry" / "result.json").write_text("{}")  # whatever the cache holds
    decision = lane_of(repo)
    assert decision["lane"] == "docs"
    assert decision["changed"] == ["README.md"]
    reasons = decision["reasons"]
    assert isinstance(reasons, list)
    assert any("workflow's own output" in reason for reason in reasons)


def test_a_run_with_its_own_report_dir_ignores_it_too(tmp_path: Path) -> None:
    repo = repo_without_ignore(tmp_path)
    first = workflow(repo.path, "run", "--lane", "heavy", "--report-dir", "elsewhere")
    assert first.returncode == 0, first.stderr
    second = workflow(repo.path, "run", "--report-dir", "elsewhere", "--dry-run")
    assert second.returncode == 0, second.stderr
    assert "nothing to check" in second.stdout + second.stderr


def test_absolute_and_dotted_changed_files_are_project_paths(tmp_path: Path) -> None:
    _bare, repo = remote_and_clone(tmp_path)
    listing = f"{repo.path}/.github/workflows/ci.yml\n"
    result = workflow(repo.path, "lane", "--json", "--changed-files", "-", stdin=listing)
    data = json.loads(result.stdout)
    assert data["lane"] == "heavy", data
    assert data["changed"] == [".github/workflows/ci.yml"]
    same = workflow(
        repo.path, "lane", "--json", "--changed-files", "-", stdin="./docs/a.md\ndocs/a.md\n"
    )
    assert json.loads(same.stdout)["changed"] == ["docs/a.md"]


def test_changed_files_outside_the_project_are_left_out_with_a_reason(tmp_path: Path) -> None:
    _bare, repo = remote_and_clone(tmp_path)
    listing = f"{tmp_path}/other/x.py\n../other/README.md\ndocs/a.md\n"
    result = workflow(repo.path, "lane", "--json", "--changed-files", "-", stdin=listing)
    data = json.loads(result.stdout)
    assert data["changed"] == ["docs/a.md"]
    assert data["lane"] == "docs"
    assert any("2 listed paths outside the project left out" in r for r in data["reasons"])


def test_a_virtualenv_git_does_not_ignore_is_no_change(tmp_path: Path) -> None:
    repo = repo_without_ignore(tmp_path)
    venv = repo.path / ".venv"
    (venv / "lib" / "site-packages" / "dep").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for index in range(60):  # more than detect.heavy_files
        (venv / "lib" / "site-packages" / "dep" / f"m{index}.py").write_text("x = 1\n")
    (repo.path / "README.md").write_text("# project\nmore\n")
    decision = lane_of(repo)
    assert decision["lane"] == "docs", decision
    assert decision["changed"] == ["README.md"]


def test_a_virtualenv_git_does_not_ignore_is_no_cache_input(tmp_path: Path) -> None:
    from orchestrator.cache.key import KeyParts, StageIdentity
    from orchestrator.model.config import StageConfig
    from orchestrator.pipeline.cachekeys import current_keys

    repo = repo_without_ignore(tmp_path)
    (repo.path / ".venv" / "lib").mkdir(parents=True)
    (repo.path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo.path / ".venv" / "lib" / "site.py").write_text("x = 1\n")
    (repo.path / "new.py").write_text("y = 2\n")
    stage = StageIdentity("lint", StageConfig(run=("true",)), repo.path)
    parts = current_keys([stage], {}, b"")["lint"]
    assert isinstance(parts, KeyParts)
    assert "new.py" in parts.inputs
    assert not any(path.startswith(".venv/") for path in parts.inputs)
