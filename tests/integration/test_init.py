"""`workflow init` on a project with a pre-commit config, a tox.ini and a Justfile: the
configuration it writes is valid, runs, and is never written over."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from orchestrator.configfile.recipes import find_recipes, role_of
from tests.helpers.lanes_repo import (
    init_repo,
    workflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("isolated_git")]

PROJECT = {
    "pyproject.toml": (
        '[project]\nname = "pkg"\nversion = "1"\n'
        "[tool.ruff]\nfix = true\n"
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        '[tool.mypy]\nfiles = ["src"]\n'
    ),
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "tests/test_core.py": (
        "import sys\n\nsys.path.insert(0, 'src')\n\n\n"
        "def test_add() -> None:\n    from pkg.core import add\n\n    assert add(1, 2) == 3\n"
    ),
    ".pre-commit-config.yaml": (
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: ruff-lint\n"
        "        name: ruff\n"
        "        entry: ruff check\n"
        "        language: system\n"
        "        types: [python]\n"
        "  - repo: https://github.com/psf/black\n"
        "    rev: 24.1.0\n"
        "    hooks:\n"
        "      - id: black\n"
    ),
    "tox.ini": (
        "[tox]\nenvlist = py, typecheck\n\n"
        "[testenv]\ncommands = pytest {posargs}\n\n"
        "[testenv:typecheck]\ncommands = mypy\n\n"
        "[testenv:lint]\ncommands = pre-commit run --all-files\n"
    ),
    "Justfile": "test *args:\n    pytest -q {{args}}\n\nsecurity:\n    bandit -q -r src\n",
    ".gitignore": "__pycache__/\n",
}


def test_init_writes_a_config_that_validates_and_runs(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "project", PROJECT)
    dry = workflow(repo.path, "init", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert not (repo.path / "workflow.toml").exists()
    written = workflow(repo.path, "init")
    assert written.returncode == 0, written.stderr
    text = (repo.path / "workflow.toml").read_text()
    assert text == dry.stdout
    config = tomllib.loads(text)
    stages = config["stages"]
    # The local pre-commit hook lints (without fixing); the tox environment type-checks;
    # the Justfile's plain recipe scans; the test recipe needs just's arguments, so the
    # tests come from tox's default environment.
    assert stages["lint"]["run"] == ["ruff", "check", "--no-fix", "."]
    assert stages["typecheck"]["run"] == ["mypy"]
    assert stages["unit"]["run"] == ["pytest"]
    assert stages["security"]["run"] == ["bandit", "-q", "-r", "src"]
    assert "pre-commit builds environments of its own" in text  # tox's lint, as a comment
    assert all("!**/*.md" in stage["inputs"] for stage in stages.values())
    assert set(config["lanes"]) == {"docs", "standard", "heavy"}
    valid = workflow(repo.path, "validate")
    assert valid.returncode == 0, valid.stderr
    assert "warning" not in valid.stderr
    repo.commit(message="workflow.toml from workflow init")
    run = workflow(repo.path, "run", "--lane", "heavy", "--no-history", env={"CI": "true"})
    assert run.returncode == 0, run.stdout + run.stderr
    again = workflow(repo.path, "init")
    assert again.returncode == 2
    assert again.stderr.strip().endswith(
        "workflow init never overwrites it (--dry-run prints what it would write)."
    )
    assert str(repo.path / "workflow.toml") in again.stderr
    assert (repo.path / "workflow.toml").read_text() == text


def test_a_project_configured_in_pyproject_gets_no_second_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.workflow.stages.lint]\nrun = ["ruff"]\n')
    done = workflow(tmp_path, "init")
    assert done.returncode == 2
    assert "tool.workflow" in done.stderr and not (tmp_path / "workflow.toml").exists()


def test_nox_sessions_are_read_never_run(tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text(
        "import nox\nraise SystemExit('imported!')\n\n"
        "@nox.session(python=['3.11'])\ndef lint(session):\n"
        "    session.install('ruff')\n    session.run('ruff', 'check', 'src')\n\n"
        "@nox.session(name='type-check')\ndef types(session):\n"
        "    session.run('mypy', *session.posargs)\n\n"
        "@nox.session\ndef tests(session):\n    session.run('pytest', f'--cov={session.name}')\n"
    )
    found = {recipe.name: recipe for recipe in find_recipes(tmp_path)}
    assert found["lint"].commands == (("ruff", "check", "src"),)
    assert found["type-check"].role == "typecheck"
    assert found["type-check"].commands == (("mypy",),)
    assert found["tests"].problem == "its commands are computed"
    assert [role_of(n) for n in ("unit-tests", "py312", "pip-audit", "docs")] == [
        "test",
        "test",
        "security",
        None,
    ]
