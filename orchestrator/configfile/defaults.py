"""Built-in stages for a Python project that has no configuration of its own.

They are what a user of ruff, mypy, pytest and bandit would type by hand, following what
the project already configures (`project.py`): lint the tree without fixing anything
(`ruff check --no-fix`, whatever `fix` the project sets), type-check where the project
configures mypy for the Python the stages run, run its tests as its pytest settings and
layout say (`testlayout.py`), scan its packages. What they look at is the project's own
source: the files git tracks or would track (`ProjectFiles`), never a virtualenv,
`build/`, `node_modules` or another ignored tree. ruff, mypy and bandit get explicit
targets (a virtualenv with an unusual name is neither ignored by git nor excluded by
ruff's defaults, and mypy and bandit do not read .gitignore); pytest skips those trees
by its own rules (`norecursedirs` and its virtualenv check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.model.config import DetectConfig, StageConfig

if TYPE_CHECKING:
    from orchestrator.configfile.project import ProjectTools

# Relative, "/"-separated paths of the files git tracks or would track under the project
# directory, or None when git cannot say (not a work tree, no git).
ProjectFiles = Callable[[Path], list[str] | None]

_NOT_PACKAGES = {"tests", "test", "docs", "bench", "benchmarks", "examples", "build", "dist"}
# Never the project's own source, whether git ignores them or not (and without git).
_NEVER_SOURCE = {"build", "dist", "node_modules", "site-packages", "__pycache__", "venv"}


def project_packages(root: Path, files: list[str] | None = None) -> list[str]:
    """Top-level (or src/) directories that hold an `__init__.py`, by name.

    With `files` (what git lists) only packages git knows count; without, the directories
    on disk, virtualenvs and build or vendor trees left out.
    """
    if files is not None:
        found = {
            path.rsplit("/", 1)[0]
            for path in files
            if _package_init(path) and (root / path).is_file()
        }
        return sorted(
            name
            for name in found
            if name.rsplit("/", 1)[-1] not in _NOT_PACKAGES and _may_be_source(root / name)
        )
    listed: list[str] = []
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (
                _may_be_source(child)
                and (child / "__init__.py").is_file()
                and child.name not in _NOT_PACKAGES
            ):
                listed.append(str(child.relative_to(root)))
    return listed


def _package_init(path: str) -> bool:
    parts = path.split("/")
    return parts[-1] == "__init__.py" and (
        len(parts) == 2 or (len(parts) == 3 and parts[0] == "src")
    )


def _may_be_source(path: Path) -> bool:
    """Not hidden, not a build or vendor tree, not a virtualenv."""
    if path.name.startswith(".") or path.name in _NEVER_SOURCE or path.name.endswith(".egg-info"):
        return False
    return not (path.is_dir() and (path / "pyvenv.cfg").is_file())


def python_entries(root: Path, files: list[str] | None = None) -> list[str]:
    """Top-level files and directories that hold Python source (when there is no package)."""
    if files is not None:
        tops = {path.split("/", 1)[0] for path in files if path.endswith(".py")}
        return sorted(top for top in tops if (root / top).exists() and _may_be_source(root / top))
    return sorted(
        child.name
        for child in root.iterdir()
        if _may_be_source(child)
        and (child.suffix == ".py" if child.is_file() else _holds_python(child))
    )


def _holds_python(directory: Path) -> bool:
    return directory.is_dir() and any(
        not any(
            part.startswith(".") or part in _NEVER_SOURCE
            for part in path.relative_to(directory).parts[:-1]
        )
        for path in _limited(directory.rglob("*.py"), 1000)
    )


def _limited(paths: Iterable[Path], count: int) -> Iterable[Path]:
    for index, path in enumerate(paths):
        if index >= count:
            return
        yield path


class Defaults(NamedTuple):
    """The built-in stages, and why each was chosen or left out (for `--dry-run` and
    the line a run starts with)."""

    stages: dict[str, StageConfig]
    notes: tuple[str, ...]


def default_stages(
    root: Path, files: list[str] | None = None, docs: tuple[str, ...] = DetectConfig().docs
) -> Defaults:
    """Stages 2-6 for the project at `root`, following its own tool settings.

    `files` is what git lists there, if it can; `docs` the `[detect].docs` patterns,
    which the stages' inputs leave out (a documentation edit keeps their cached passes),
    except pytest's when it reads doctests from text files.
    """
    # The project's tool settings and test layout are read only without a configuration
    # of stages (configparser and the rest stay off a configured run's way to its first
    # stage): this module's one deferred import.
    from orchestrator.configfile.project import read_project  # noqa: PLC0415 - see above
    from orchestrator.configfile.testlayout import test_stages  # noqa: PLC0415 - see above

    project = read_project(root)
    source = tuple(python_entries(root, files)) or (".",)
    targets = tuple(project_packages(root, files)) or source
    inputs = without(docs)
    notes: list[str] = []
    lint = ("ruff", "check", "--no-fix", *source)
    if project.ruff_fixes:
        notes.append(
            f"lint: ruff check --no-fix: {project.ruff} sets fix = true, and a check never "
            "edits the sources"
        )
    stages = {"lint": StageConfig(number=2, run=lint, kind="cpu", inputs=inputs)}
    typecheck, why = typecheck_stage(root, project, targets)
    notes.append(why)
    if typecheck is not None:
        stages["typecheck"] = StageConfig(number=3, run=typecheck, kind="cpu", inputs=inputs)
    tests = test_stages(root, project.pytest, files)
    notes.append(tests.note)
    test_inputs = None if project.pytest.reads_text_files else inputs
    for test in tests.stages:
        stages[test.name] = StageConfig(
            number=test.number, run=test.run, kind="cpu", inputs=test_inputs
        )
    # -ll: medium severity and up, the findings a user would act on (see `gate_note`).
    config = ("-c", project.bandit) if project.bandit else ()
    security = ("bandit", *config, "-q", "-ll", "-r", *targets)
    stages["security"] = StageConfig(number=6, run=security, kind="cpu", inputs=inputs)
    return Defaults(stages, tuple(notes))


def without(docs: tuple[str, ...]) -> tuple[str, ...]:
    """`inputs` patterns for every file but those `docs` matches (gitignore-style, the
    last match decides: a docs pattern's own `!exception` becomes an input again)."""
    return ("*", *(pattern[1:] if pattern.startswith("!") else f"!{pattern}" for pattern in docs))


def typecheck_stage(
    root: Path, project: ProjectTools, targets: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, str]:
    """mypy's argv, or None, and why: it runs where the project configures it (a mypy
    configuration that names its files, or one the project runs mypy with in its hooks,
    task files or CI), for the Python the stages run (requirement markers)."""
    from orchestrator.configfile.project import (  # noqa: PLC0415 - as default_stages
        requirement_markers,
        runs_tool,
        stage_python,
    )

    mypy = project.mypy
    if mypy.source is None:
        return None, (
            "typecheck left out: the project has no mypy configuration (mypy.ini, "
            ".mypy.ini, [tool.mypy] in pyproject.toml, [mypy] in setup.cfg)"
        )
    python = stage_python()
    markers = requirement_markers(root, project.pyproject, "mypy")
    if markers and not any(_holds(marker, python) for marker in markers):
        shown = "; ".join(dict.fromkeys(markers))
        return None, (
            f"typecheck left out: the project installs mypy only where {shown}, and the "
            f"stages run Python {python[0]}.{python[1]}"
        )
    where = runs_tool(root, "mypy")
    if not mypy.files and where is None:
        return None, (
            f"typecheck left out: {mypy.source} configures mypy but names no files, and "
            "the project runs it nowhere workflow can see (pre-commit, tox, nox, a "
            "Justfile or Makefile, a GitHub workflow)"
        )
    missing = [path for path in mypy.files if not _exists(root, path)]
    if mypy.files and len(missing) == len(mypy.files):
        return None, (
            f"typecheck left out: none of the files {mypy.source} names exists here "
            f"({', '.join(missing)})"
        )
    if missing:  # an sdist without the examples/ its configuration names: check the rest
        present = tuple(path for path in mypy.files if path not in missing)
        return ("mypy", *present), (
            f"typecheck: mypy with {mypy.source} on {', '.join(present)}; "
            f"{', '.join(missing)} (in its files) does not exist here"
        )
    run = ("mypy",) if mypy.files else ("mypy", *targets)
    what = "the files it configures" if mypy.files else f"{', '.join(targets)} (as {where} runs it)"
    note = f"typecheck: mypy with {mypy.source} on {what}"
    version = mypy.python_version
    if version is not None and version.strip() != f"{python[0]}.{python[1]}":
        note += (
            f"; it checks as Python {version} (python_version), as the project asks, "
            f"though the stages run {python[0]}.{python[1]}"
        )
    return run, note


def _exists(root: Path, pattern: str) -> bool:
    """Whether a mypy `files` entry (a path, or a glob mypy expands) names something."""
    if any(char in pattern for char in "*?["):
        return any(root.glob(pattern))
    return (root / pattern).exists()


def _holds(marker: str, python: tuple[int, int]) -> bool:
    """Whether a requirement's environment marker holds for the stages' Python ("" always
    does; one that cannot be read is taken to hold: then mypy runs, and says why it fails)."""
    if not marker:
        return True
    # packaging loads only for a project whose requirements put a marker on mypy.
    from packaging.markers import InvalidMarker, Marker, default_environment  # noqa: PLC0415

    environment = {key: str(value) for key, value in default_environment().items()}
    environment["python_version"] = f"{python[0]}.{python[1]}"
    environment["python_full_version"] = f"{python[0]}.{python[1]}.0"
    try:
        return Marker(marker).evaluate(environment)
    except (InvalidMarker, ValueError):
        return True


def gate_note(run: tuple[str, ...] | None) -> str | None:
    """What a bandit stage fails on, when its argv sets a severity level (for --dry-run)."""
    if not run or Path(run[0]).name != "bandit":
        return None
    levels = {"-l": "low", "-ll": "medium", "-lll": "high"}
    level = next((levels[arg] for arg in run if arg in levels), None)
    if level is None:
        return None
    return f"fails on bandit findings of {level} severity and above; lower ones are not reported"
