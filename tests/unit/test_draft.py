"""`workflow init`'s reading of task files and its choice of commands (pure parts)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from orchestrator.configfile.load import load_config
from orchestrator.configfile.recipes import Recipe, task_recipes, tox_environments
from orchestrator.engine.toolpath import stage_environment
from orchestrator.pipeline.draft import draft_config, runnable

ENV = stage_environment(os.environ)  # workflow's scripts directory first, as a stage's


def test_make_and_just_recipes_named_like_checks(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text(
        ".PHONY: lint test\nVAR := 1\nlint:\n\truff check src\n\t@ruff format --check src\n"
        "test: deps\n\tpython -m pytest $(ARGS)\nrelease:\n\ttwine upload dist/*\n"
    )
    (tmp_path / "justfile").write_text(
        'set shell := ["bash", "-c"]\n# comment\ntypecheck:\n    uv run --group dev mypy src\n'
    )
    make = {r.name: r for r in task_recipes(tmp_path, "Makefile", "make")}
    assert set(make) == {"lint", "test"}
    assert make["lint"].commands == (("ruff", "check", "src"), ("ruff", "format", "--check", "src"))
    assert make["lint"].runner == ("make", "lint")
    assert make["test"].problem is not None and "$(ARGS)" in make["test"].problem
    (just,) = task_recipes(tmp_path, "justfile", "just")
    assert just.role == "typecheck" and just.commands == (
        ("uv", "run", "--group", "dev", "mypy", "src"),
    )


def test_commands_run_here_without_their_environment_runner(tmp_path: Path) -> None:
    uv = Recipe("x", "lint", "lint", commands=(("uv", "run", "-p", "3.14", "ruff", "check", "."),))
    assert runnable(uv, tmp_path, ENV) == (("ruff", "check", "--no-fix", "."), "")
    two = Recipe("x", "lint", "lint", commands=(("ruff", "check", "--fix", "."), ("true",)))
    assert runnable(two, tmp_path, ENV) == (("sh", "-c", "ruff check --fix . && true"), "")
    tox = Recipe("x", "lint", "lint", commands=(("tox", "-e", "lint"),))
    assert runnable(tox, tmp_path, ENV) == (None, "tox builds environments of its own")
    gone = Recipe("x", "lint", "lint", commands=(("no-such-linter-here",),))
    assert (
        runnable(gone, tmp_path, ENV)[1]
        == "no-such-linter-here is not installed where the stages run"
    )


def test_tox_placeholders(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(
        "[testenv]\ncommands = {envpython} -m pytest {posargs:tests} --rootdir={toxinidir}\n"
        "[testenv:docs]\ncommands = sphinx-build {envtmpdir} docs\n"
    )
    found = {r.name: r for r in tox_environments(tmp_path / "tox.ini")}
    assert found["testenv"].commands == (("python", "-m", "pytest", "tests", "--rootdir=."),)
    assert found["docs"].role is None and found["docs"].problem is not None


def test_an_empty_project_gets_a_valid_configuration(tmp_path: Path) -> None:
    text = draft_config(tmp_path, [], ENV)
    tomllib.loads(text)
    (tmp_path / "workflow.toml").write_text(text)
    loaded = load_config(cwd=tmp_path)
    assert list(loaded.config.stages) == ["lint", "security"]
