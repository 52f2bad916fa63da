"""Built-in stages for a Python project that has no configuration of its own.

They are what a user of ruff, mypy, pytest and bandit would type by hand: lint the tree,
type-check and scan the project's packages, run the tests (unit and integration apart when
the project separates them). What they look at is the project's own source: the files git
tracks or would track (`ProjectFiles`), never a virtualenv, `build/`, `node_modules` or
another ignored tree. ruff, mypy and bandit get explicit targets (a virtualenv with an
unusual name is neither ignored by git nor excluded by ruff's defaults, and mypy and
bandit do not read .gitignore); pytest is pointed at the project directory and skips
those trees by its own rules (`norecursedirs` and its virtualenv check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from orchestrator.model.config import StageConfig

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


def default_stages(root: Path, files: list[str] | None = None) -> dict[str, StageConfig]:
    """Stages 2-6 for the project at `root`; `files` is what git lists there, if it can."""
    source = tuple(python_entries(root, files)) or (".",)
    targets = tuple(project_packages(root, files)) or source
    tests = root / "tests"
    stages: dict[str, StageConfig] = {
        "lint": StageConfig(number=2, run=("ruff", "check", *source), kind="cpu"),
        "typecheck": StageConfig(number=3, run=("mypy", *targets), kind="cpu"),
    }
    if (tests / "unit").is_dir() and (tests / "integration").is_dir():
        stages["unit"] = StageConfig(number=4, run=("pytest", "-q", "tests/unit"), kind="cpu")
        stages["integration"] = StageConfig(
            number=5, run=("pytest", "-q", "tests/integration"), kind="cpu"
        )
    else:
        stages["unit"] = StageConfig(number=4, run=("pytest", "-q"), kind="cpu")
    # -ll: medium severity and up, the findings a user would act on (see `gate_note`).
    security = ("bandit", "-q", "-ll", "-r", *targets)
    stages["security"] = StageConfig(number=6, run=security, kind="cpu")
    return stages


def gate_note(run: tuple[str, ...] | None) -> str | None:
    """What a bandit stage fails on, when its argv sets a severity level (for --dry-run)."""
    if not run or Path(run[0]).name != "bandit":
        return None
    levels = {"-l": "low", "-ll": "medium", "-lll": "high"}
    level = next((levels[arg] for arg in run if arg in levels), None)
    if level is None:
        return None
    return f"fails on bandit findings of {level} severity and above; lower ones are not reported"
