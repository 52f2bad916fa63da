"""`workflow init`: a commented workflow.toml drafted from what the project already has.

For each role (lint, a format check, type-check, unit and integration tests, security)
the project's own command wins when it can run in the environment the stages run in: a
local pre-commit hook, then a tox environment, a nox session, a Justfile or Makefile
recipe (configfile/recipes.py), in that order. A command behind `uv run`, `poetry run`,
`pdm run`, `hatch run` or `pipenv run` runs without it (the stage's PATH already leads
to this environment's tools); one that builds environments of its own (tox, nox,
pre-commit, pip) or whose program is not installed is left as a comment, and the
built-in stage, which follows the project's `[tool.*]` tables and test layout
(configfile/defaults.py), takes the role. Every stage's `inputs` leave out
`[detect].docs`, so a documentation edit keeps their cached passes.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.configfile.defaults import default_stages, without
from orchestrator.configfile.project import read_project
from orchestrator.configfile.recipes import Recipe, find_recipes
from orchestrator.engine.toolpath import resolve_executable, stage_environment
from orchestrator.model.config import LANE_DEFAULTS, DetectConfig, Lane, StageConfig

# role -> (stage name, number, the built-in stage that takes the role)
ROLES = (
    ("lint", "lint", 2, "lint"),
    ("format", "format", 2, None),
    ("typecheck", "typecheck", 3, "typecheck"),
    ("test", "unit", 4, "unit"),
    ("integration", "integration", 5, "integration"),
    ("security", "security", 6, "security"),
)
# Programs that build environments of their own: not a check of this one.
BUILDERS = frozenset({"tox", "nox", "pre-commit", "pip", "pip3", "conda", "mamba", "virtualenv"})
# `X run [options] COMMAND`: the options of uv's that take a value.
_UV_VALUES = frozenset(
    {"-p", "--python", "--group", "--extra", "--with", "--with-editable", "--only-group",
     "--package", "--env-file", "--directory", "--project", "--index", "--default-index",
     "--no-group", "--with-requirements", "-C", "--config-setting"}
)  # fmt: skip
_RUNNERS = frozenset({"uv", "poetry", "pdm", "hatch", "pipenv", "rye"})


@dataclass(frozen=True)
class Chosen:
    """One stage of the draft: its table, where it came from, what else was found."""

    name: str
    config: StageConfig
    source: str
    alternatives: tuple[str, ...] = ()


def draft_config(
    root: Path, files: list[str] | None, environ: Mapping[str, str] | None = None
) -> str:
    """The workflow.toml text for the project at `root` (`files`: what git lists)."""
    env = stage_environment(os.environ if environ is None else environ)
    docs = DetectConfig().docs
    built = default_stages(root, files, docs)
    recipes = find_recipes(root)
    coverage = read_project(root).coverage
    chosen = []
    for role, name, number, builtin in ROLES:
        mine = [r for r in recipes if r.role == role]
        fallback = built.stages.get(builtin) if builtin else None
        stage = _choose(name, number, mine, fallback, (root, env))
        if stage is not None and coverage and role == "test" and stage.config.run:
            stage = _with_coverage(stage, coverage)
        if stage is not None:
            chosen.append(stage)
    return render(chosen, built.notes, docs)


def _with_coverage(stage: Chosen, where: str) -> Chosen:
    """The test stage with a comment on measuring coverage as the project configures it."""
    run = stage.config.run or ()
    tests = run[1:] if run and Path(run[0]).name in ("pytest", "py.test") else None
    if tests is None:
        return stage
    measured = ("coverage", "run", "-m", "pytest", *tests)
    note = f"{where} configures coverage.py; to measure it here: run = {_array(measured)}"
    return Chosen(stage.name, stage.config, stage.source, (*stage.alternatives, note))


def _choose(
    name: str,
    number: int,
    recipes: Sequence[Recipe],
    builtin: StageConfig | None,
    where: tuple[Path, Mapping[str, str]],
) -> Chosen | None:
    """The first of the project's own commands for the role that runs here, else the
    built-in stage; every other candidate is named in a comment."""
    notes: list[str] = []
    picked: tuple[Recipe, tuple[str, ...]] | None = None
    for recipe in recipes:
        run, problem = runnable(recipe, *where)
        if run is not None and name == "format" and not _checks_only(recipe):
            run, problem = None, "it rewrites files (a format check runs with --check)"
        if run is None:
            notes.append(f"{recipe.source}: not used: {problem}")
        elif picked is None:
            picked = (recipe, run)
        else:
            notes.append(f"also found: {recipe.source}: run = {_array(run)}")
    if picked is not None:
        recipe, run = picked
        inputs = builtin.inputs if builtin is not None else without(DetectConfig().docs)
        config = StageConfig(number=number, run=run, kind="cpu", inputs=inputs)
        if builtin is not None and builtin.run is not None:
            notes.append(f"built-in instead: run = {_array(builtin.run)}")
        return Chosen(name, config, f"from {recipe.source}", tuple(notes))
    if builtin is None:
        return None if not notes else Chosen(name, StageConfig(), "", tuple(notes))
    return Chosen(name, builtin, "built-in: follows the project's own settings", tuple(notes))


def runnable(
    recipe: Recipe, root: Path, env: Mapping[str, str]
) -> tuple[tuple[str, ...] | None, str]:
    """The argv a stage runs for `recipe` here, or None and why not."""
    commands = [_unwrapped(command) for command in recipe.commands]
    plain = [command for command in commands if command]
    problem = recipe.problem or _problem(commands, plain, root, env)
    if problem is not None:
        return None, problem
    unchanged = plain == [c for c in recipe.commands if c]
    if recipe.runner and unchanged and resolve_executable(recipe.runner[0], env, root):
        return recipe.runner, ""  # `make lint`: the recipe as the project keeps it
    checks = [_no_fix(command) for command in plain]
    if len(checks) == 1:
        return checks[0], ""
    return ("sh", "-c", " && ".join(shlex.join(command) for command in checks)), ""


def _problem(
    commands: list[tuple[str, ...] | None],
    plain: list[tuple[str, ...]],
    root: Path,
    env: Mapping[str, str],
) -> str | None:
    """Why these commands cannot run as a stage here, or None."""
    if any(command is None for command in commands):
        return "it runs through an environment runner with options workflow cannot read"
    if not plain:
        return "it runs no command"
    for command in plain:
        if Path(command[0]).name in BUILDERS:
            return f"{command[0]} builds environments of its own"
        if resolve_executable(command[0], env, root) is None:
            return f"{command[0]} is not installed where the stages run"
    return None


def _checks_only(recipe: Recipe) -> bool:
    return all(any(arg in ("--check", "--diff") for arg in c) for c in recipe.commands if c)


def _unwrapped(command: tuple[str, ...]) -> tuple[str, ...] | None:
    """`uv run -p 3.14 --group lint ruff check .` -> `ruff check .`; None when the
    runner's options cannot be read."""
    if len(command) < 2 or command[0] not in _RUNNERS or command[1] != "run":
        return command
    rest = list(command[2:])
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in _UV_VALUES and "=" not in option:
            if not rest:
                return None
            rest.pop(0)
        elif command[0] != "uv":
            return None
    return tuple(rest)


def _no_fix(command: tuple[str, ...]) -> tuple[str, ...]:
    """`ruff check` never fixes in a stage, whatever `fix` the project sets."""
    ruff_check = Path(command[0]).name == "ruff" and "check" in command[1:2]
    chosen = any(arg in ("--fix", "--no-fix") or arg.startswith("--fix=") for arg in command)
    return (*command[:2], "--no-fix", *command[2:]) if ruff_check and not chosen else command


def render(chosen: Sequence[Chosen], notes: Sequence[str], docs: tuple[str, ...]) -> str:
    """The commented TOML."""
    lines = [
        "# workflow.toml, drafted by `workflow init` from what this project already has.",
        "# Check it with `workflow validate`; see what would run with `workflow run --dry-run`.",
        *(f"# {note}" for note in notes),
        "",
        "[workflow]",
        'history = ".workflow/history.db"  # "" turns history off',
        'reports = ".workflow/reports"',
        'cache = ".workflow/cache"          # "" turns the result cache off',
    ]
    for stage in chosen:
        lines += _stage_lines(stage)
    lines += _lane_lines(docs)
    return "\n".join(lines) + "\n"


def _stage_lines(stage: Chosen) -> list[str]:
    lines = [""]
    if stage.config.run is None:  # nothing runnable: the findings only, as comments
        lines.append(f"# {stage.name}: nothing the stages could run was found")
        return lines + [f"#   {alternative}" for alternative in stage.alternatives]
    lines.append(f"# {stage.name}: {stage.source}")
    lines += [f"#   {alternative}" for alternative in stage.alternatives]
    config, run = stage.config, stage.config.run
    lines += [f"[stages.{stage.name}]", f"number = {config.number}", f"run = {_array(run)}"]
    if config.inputs is not None:
        lines.append(f"inputs = {_array(config.inputs)}  # all but [detect].docs")
    else:
        lines.append("# inputs: every file (its tests read documentation: doctests)")
    lines.append('kind = "cpu"')
    return lines


def _lane_lines(docs: tuple[str, ...]) -> list[str]:
    lines = [
        "",
        "# A docs-only change runs the lint stages (number 2) and any stage whose inputs",
        "# match it; `stages = [...]` here chooses otherwise.",
    ]
    for lane in Lane:
        settings = LANE_DEFAULTS[lane]
        lines += [
            *([] if lane is Lane.DOCS else [""]),
            f"[lanes.{lane.value}]",
            f'strategy = "{settings.strategy.value}"',
            f"workers = {json.dumps(settings.workers)}",
            f"stage_sla = {settings.stage_sla:g}  # seconds, every stage of the lane",
            f"budget = {settings.budget:g}  # seconds, the whole run",
        ]
    return [
        *lines,
        "",
        "[detect]",
        f"docs = {_array(docs)}",
        "",
        "[sla]",
        "warning_ratio = 0.8",
        '# critical = ["unit"]  # a breach of these fails the run (exit 3)',
    ]


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"
