"""The pytest stages a project's own layout and pytest settings call for.

What an experienced pytest user would type at the project's root: `pytest` alone when
the project names its `testpaths` (pytest then collects exactly those), else `pytest
tests` (a `bench/` of pytest-benchmark files or a `docs/` with examples is not the test
suite), else `pytest` with pytest's own discovery when test files lie elsewhere. A
project whose tests all sit under `tests/unit` and `tests/integration` gets two stages;
a project with no test files and no `testpaths` gets none. `-rfE` puts the failed tests
in pytest's short summary, which is what a failed stage shows.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from orchestrator.configfile.project import PytestSettings

TEST_DIRS = ("tests", "test")
_SKIPPED_DIRS = {"build", "dist", "node_modules", "site-packages", "__pycache__"}
_WALK_LIMIT = 20_000  # files looked at without git; a project bigger than this has git


class TestStage(NamedTuple):
    """One built-in pytest stage: its name, number and argv."""

    name: str
    number: int
    run: tuple[str, ...]


class TestPlan(NamedTuple):
    """The pytest stages, and one sentence on how they were chosen (for `--dry-run`)."""

    stages: tuple[TestStage, ...]
    note: str


def test_stages(root: Path, pytest: PytestSettings, files: list[str] | None) -> TestPlan:
    """The built-in pytest stages for the project at `root` (`files`: what git lists)."""
    base = ("pytest", "-q") + (() if pytest.reports_failures else ("-rfE",))
    patterns = pytest.python_files
    where = pytest.source
    if pytest.testpaths:
        shown = ", ".join(pytest.testpaths)
        tests = _matching(_listing(root, files), patterns, pytest.testpaths)
        split = _unit_integration(tests) if pytest.testpaths in (("tests",), ("tests/",)) else ()
        note = f"unit: pytest runs the testpaths of {where} ({shown})"
        return TestPlan(split or (TestStage("unit", 4, base),), note)
    listing = _listing(root, files)
    for directory in TEST_DIRS:
        tests = _matching(listing, patterns, (directory,))
        if tests:
            split = _unit_integration(tests) if directory == "tests" else ()
            note = f"unit: pytest runs {directory}/ (no testpaths configured)"
            return TestPlan(split or (TestStage("unit", 4, (*base, directory)),), note)
    anywhere = _matching(listing, patterns, ("",))
    if anywhere or any(arg.startswith("--doctest") for arg in pytest.addopts):
        note = f"unit: pytest collects from the project's root (no testpaths, no {TEST_DIRS[0]}/)"
        return TestPlan((TestStage("unit", 4, base),), note)
    wanted = " or ".join(patterns)
    return TestPlan((), f"unit left out: no test files ({wanted}) and no pytest testpaths")


def _unit_integration(tests: list[str]) -> tuple[TestStage, ...]:
    """Two stages when every test file lies under tests/unit or tests/integration: no
    test is left out of both."""
    inside = {
        kind: [t for t in tests if t.startswith(f"tests/{kind}/")]
        for kind in ("unit", "integration")
    }
    if not all(inside.values()) or len(inside["unit"]) + len(inside["integration"]) < len(tests):
        return ()
    return (
        TestStage("unit", 4, ("pytest", "-q", "-rfE", "tests/unit")),
        TestStage("integration", 5, ("pytest", "-q", "-rfE", "tests/integration")),
    )


def _matching(files: Iterable[str], patterns: tuple[str, ...], under: tuple[str, ...]) -> list[str]:
    """The test files (by pytest's `python_files`) under any of `under` ("" is all)."""
    prefixes = [p.rstrip("/") + "/" if p.strip("/.") else "" for p in under]
    found = []
    for path in files:
        if not any(path.startswith(prefix) or path == prefix.rstrip("/") for prefix in prefixes):
            continue
        name = path.rsplit("/", 1)[-1]
        if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
            found.append(path)
    return found


def _listing(root: Path, files: list[str] | None) -> list[str]:
    """What git lists, or the files on disk without virtualenvs, build trees and dot-
    directories (at most `_WALK_LIMIT`)."""
    if files is not None:
        return [path for path in files if not _skipped(path.split("/")[:-1])]
    found: list[str] = []
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [
            d
            for d in subdirectories
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not (here / d / "pyvenv.cfg").is_file()
        ]
        relative = here.relative_to(root).as_posix()
        found += [name if relative == "." else f"{relative}/{name}" for name in names]
        if len(found) > _WALK_LIMIT:
            break
    return found


def _skipped(parts: list[str]) -> bool:
    return any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts)
