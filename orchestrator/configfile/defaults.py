"""Built-in stages for a Python project that has no configuration of its own.

They are what a user of ruff, mypy, pytest and bandit would type by hand: lint the tree,
type-check and scan the project's packages, run the tests (unit and integration apart when
the project separates them).
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.model.config import StageConfig

_NOT_PACKAGES = {"tests", "test", "docs", "bench", "benchmarks", "examples", "build", "dist"}


def project_packages(root: Path) -> list[str]:
    """Top-level (or src/) directories that hold an `__init__.py`, by name."""
    found: list[str] = []
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (
                child.is_dir()
                and (child / "__init__.py").is_file()
                and child.name not in _NOT_PACKAGES
                and not child.name.startswith(".")
            ):
                found.append(str(child.relative_to(root)))
    return found


def default_stages(root: Path) -> dict[str, StageConfig]:
    """Stages 2-6 for the project at `root`."""
    targets = tuple(project_packages(root)) or (".",)
    tests = root / "tests"
    stages: dict[str, StageConfig] = {
        "lint": StageConfig(number=2, run=("ruff", "check", "."), kind="cpu"),
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
