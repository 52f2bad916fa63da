"""Situations where a cached pass once hid a failure: each now misses, the stage fails for
real, and `cache explain` says why.

Real git repositories in tmp_path, the real `workflow` command, real ruff and pytest from
workflow's own environment, a real virtualenv with a package pip installs and upgrades.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cache_repo import git
from tests.integration.command import workflow
from tests.integration.venvs import build_wheel, install, venv

pytestmark = pytest.mark.integration

QUIET_PYTEST = ["pytest", "-q", "-p", "no:cacheprovider"]


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def new_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write(root, {".gitignore": ".workflow/\n__pycache__/\n", **files})
    commit_all(root, "project")
    return root


def last_stage(cwd: Path, name: str) -> dict[str, Any]:
    record_path = sorted((cwd / ".workflow" / "reports").glob("*/run.json"))[-1]
    record = json.loads(record_path.read_text())
    found: dict[str, Any] = next(s for s in record["stages"] if s["name"] == name)
    return found


def run(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return workflow(cwd, "run", "--lane", "heavy", "--format", "json", env=env)


def test_configuration_above_the_stage_directory_is_in_its_key(tmp_path: Path) -> None:
    # A service with its own workflow.toml; ruff's rules live in the root's pyproject.toml.
    repo = new_repo(
        tmp_path / "mono",
        {
            "pyproject.toml": '[tool.ruff.lint]\nselect = ["E"]\n',
            "services/api/src/app.py": "import os\n\n\ndef handler():\n    return 1\n",
            "services/api/workflow.toml": (
                '[workflow]\nhistory = ""\n\n[stages.lint]\nrun = ["ruff", "check", "."]\n'
            ),
        },
    )
    service = repo / "services" / "api"
    first = run(service)
    assert first.returncode == 0, first.stdout + first.stderr
    lint = last_stage(service, "lint")
    assert lint["cache"]["stored"] is True
    assert "pyproject.toml" in lint["cache"]["config_files"]  # the root's, listed
    assert run(service).returncode == 0 and last_stage(service, "lint")["cache"]["hit"]

    # Enabling a rule at the root: ruff now fails (F401, `os` unused) and nothing is reused.
    (repo / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["E", "F"]\n')
    second = run(service)
    assert second.returncode == 1, second.stdout + second.stderr
    lint = last_stage(service, "lint")
    assert lint["status"] == "failed" and lint["cache"]["hit"] is False
    explained = workflow(service, "cache", "explain", "lint")
    assert "input files changed: pyproject.toml" in explained.stdout, explained.stdout

    # A setup.cfg that did not exist above the service appears: its absence was keyed.
    (repo / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["E"]\n')
    assert run(service).returncode == 0  # the stored pass holds again: a hit
    assert last_stage(service, "lint")["cache"]["hit"] is True
    (repo / "services" / "setup.cfg").write_text("[flake8]\n")
    explained = workflow(service, "cache", "explain", "lint")
    assert "input files added: services/setup.cfg" in explained.stdout, explained.stdout
    assert run(service).returncode == 0
    assert last_stage(service, "lint")["cache"]["hit"] is False


def test_inputs_can_name_files_above_the_stage_directory(tmp_path: Path) -> None:
    test = (
        "from pathlib import Path\n\ndef test_rules():\n"
        "    assert Path('../../shared/limit.txt').read_text() == '3\\n'\n"
    )
    config = (
        '[workflow]\nhistory = ""\n\n[stages.unit]\n'
        f"run = {json.dumps([*QUIET_PYTEST, 'tests'])}\n"
        'inputs = ["tests/**", "//shared/limit.txt"]\n'
    )
    repo = new_repo(
        tmp_path / "mono",
        {
            "shared/limit.txt": "3\n",
            "services/api/tests/test_rules.py": test,
            "services/api/workflow.toml": config,
        },
    )
    service = repo / "services" / "api"
    assert run(service).returncode == 0
    assert run(service).returncode == 0 and last_stage(service, "unit")["cache"]["hit"]
    (repo / "shared" / "limit.txt").write_text("4\n")
    failed = run(service)
    assert failed.returncode == 1, failed.stdout
    assert last_stage(service, "unit")["cache"]["hit"] is False
    explained = workflow(service, "cache", "explain", "unit")
    assert "input files changed: shared/limit.txt" in explained.stdout, explained.stdout


CHECKER = "#!{python}\nimport sys\nimport tinypkg\nsys.exit(0 if tinypkg.OK else 1)\n"


def test_a_tool_behind_a_wrapper_is_keyed_by_the_environments_on_its_path(
    tmp_path: Path, tiny_wheels: Path
) -> None:
    env_dir = venv(tmp_path / "tools", Path(sys.executable))
    install(env_dir, tiny_wheels, "1.0")
    checker = env_dir / "bin" / "checker"
    checker.write_text(CHECKER.format(python=env_dir / "bin" / "python"))
    config = '[workflow]\nhistory = ""\n\n[stages.check]\nrun = ["sh", "-c", "checker"]\n'
    repo = new_repo(tmp_path / "project", {"workflow.toml": config, "app.py": "X = 1\n"})
    path = {"PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    assert run(repo, path).returncode == 0
    assert run(repo, path).returncode == 0 and last_stage(repo, "check")["cache"]["hit"]

    install(env_dir, tiny_wheels, "2.0")  # upgraded in place: 2.0 says OK = False
    upgraded = run(repo, path)
    assert upgraded.returncode == 1, upgraded.stdout + upgraded.stderr
    check = last_stage(repo, "check")
    assert check["status"] == "failed" and check["cache"]["hit"] is False
    assert str(env_dir) in check["cache"]["environments"]
    explained = workflow(repo, "cache", "explain", "check", env=path).stdout
    assert "distributions changed: tinypkg 1.0 -> 2.0" in explained, explained
    assert "tool: sh, not a Python tool" in explained, explained
    assert f"({env_dir})" in explained, explained


def test_a_submodule_that_git_is_told_to_ignore_is_read_anyway(tmp_path: Path) -> None:
    vendored = new_repo(
        tmp_path / "vendored", {"tests/test_vendor.py": "def test_ok():\n    assert True\n"}
    )
    config = (
        '[workflow]\nhistory = ""\n\n[stages.unit]\n'
        f"run = {json.dumps([*QUIET_PYTEST, 'vendor/tests'])}\n"
    )
    repo = new_repo(tmp_path / "project", {"workflow.toml": config})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(vendored), "vendor")
    git(repo, "config", "-f", ".gitmodules", "submodule.vendor.ignore", "dirty")
    commit_all(repo, "vendor")
    assert run(repo).returncode == 0
    assert run(repo).returncode == 0 and last_stage(repo, "unit")["cache"]["hit"]

    failing = "def test_ok():\n    assert False\n"
    (repo / "vendor" / "tests" / "test_vendor.py").write_text(failing)
    assert git(repo, "status", "--porcelain") == ""  # git itself says nothing changed
    edited = run(repo)
    assert edited.returncode == 1, edited.stdout + edited.stderr
    unit = last_stage(repo, "unit")
    assert unit["status"] == "failed" and unit["cache"]["hit"] is False
    assert "vendor is a submodule with changes of its own" in unit["cache"]["reason"]
    explained = workflow(repo, "cache", "explain", "unit").stdout
    assert "not cacheable: vendor is a submodule with changes of its own" in explained


@pytest.fixture(scope="module")
def tiny_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tinypkg 1.0 (OK = True) and 2.0 (OK = False) as real wheels."""
    directory = tmp_path_factory.mktemp("wheels")
    build_wheel(directory, "1.0", "OK = True\n")
    build_wheel(directory, "2.0", "OK = False\n")
    return directory


def test_inputs_that_reach_into_a_symlinked_directory_are_read_through_it(
    tmp_path: Path,
) -> None:
    # `inputs = ["lnk/**"]` where `lnk` is a symlink git tracks: the files behind it count,
    # and so does the link's target (a new target misses too).
    check = "import pathlib, sys\nsys.exit(pathlib.Path('lnk/x.txt').read_text() != '1\\n')\n"
    config = (
        '[workflow]\nhistory = ""\n\n'
        f'[stages.check]\nrun = [{json.dumps(sys.executable)}, "check.py"]\n'
        'inputs = ["check.py", "lnk/**"]\n'
    )
    repo = new_repo(
        tmp_path / "repo",
        {"workflow.toml": config, "check.py": check, "a/x.txt": "1\n", "b/x.txt": "2\n"},
    )
    (repo / "lnk").symlink_to("a")
    commit_all(repo, "link")
    assert run(repo).returncode == 0
    assert last_stage(repo, "check")["status"] == "passed"
    (repo / "a" / "x.txt").write_text("3\n")  # behind the link
    assert run(repo).returncode == 1
    assert last_stage(repo, "check")["cache"]["hit"] is False
    (repo / "a" / "x.txt").write_text("1\n")
    assert run(repo).returncode == 0  # the first pass again
    (repo / "lnk").unlink()
    (repo / "lnk").symlink_to("b")  # a new target
    assert run(repo).returncode == 1
    assert last_stage(repo, "check")["status"] == "failed"
