"""Where a failed test failed, as a path GitHub can place: relative to the repository root.

A JUnit file names a test's file relative to pytest's rootdir (the directory of its
`pytest.ini` or `pyproject.toml`), which need not be the stage's `cwd` nor the
repository's root (a project in `backend/`, an ini file above the tests); a failure's
text names its frames relative to where pytest was started. GitHub places an annotation
only at a path relative to the repository root (DESIGN.md, "In GitHub Actions"), so each
failed test's file is resolved against what it is relative to and written relative to
the root of the git checkout that holds it (found by its `.git`, no git process needed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from orchestrator.engine.pytest.junit import failure_locations
from orchestrator.model.testresults import TestCase


@lru_cache(maxsize=64)
def repository_root(directory: Path) -> Path | None:
    """The nearest of `directory` and its parents holding `.git` (a directory, or the file
    of a worktree or submodule); None outside any checkout."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def from_root(path: Path) -> str:
    """`path` (absolute) relative to the repository that holds it; outside any
    repository, relative to the current directory when it lies inside it, else as it is."""
    root = repository_root(path.parent)
    if root is not None:
        return Path(os.path.relpath(path, root)).as_posix()
    here = Path.cwd()
    return path.relative_to(here).as_posix() if path.is_relative_to(here) else str(path)


def placed(cases: Sequence[TestCase], base: Path, cwd: Path) -> list[TestCase]:
    """`cases` with each failed test's `file` relative to the repository root, and its
    `line` the last line of that file its failure names (the assertion, not the `def`).

    `base`: what the JUnit file's paths are relative to (pytest's rootdir; a foreign
    tool's working directory); `cwd`: where the tool was started (what a failure text's
    paths are relative to). Passing tests are left as they are.
    """
    result = []
    for case in cases:
        if not case.outcome.bad or not case.file:
            result.append(case)
            continue
        file = Path(os.path.normpath(base / case.file))
        line = case.line
        for named, number in failure_locations(case.message or ""):
            if Path(os.path.normpath(cwd / named)) == file:
                line = number
        result.append(replace(case, file=from_root(file), line=line))
    return result


def root_relative(directory: Path) -> str | None:
    """`directory` relative to the repository that holds it ("" for its root); None
    outside any repository."""
    root = repository_root(directory)
    if root is None:
        return None
    relative = Path(os.path.relpath(directory, root)).as_posix()
    return "" if relative == "." else relative
