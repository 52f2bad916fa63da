"""The names of the files tools read their settings from, in the directory they start in
and in each directory above it: one list for what a cache key holds (`cache/configs.py`)
and for what makes a pushed commit's check leave the work tree (`lanes/pushtree.py`,
`lanes/worktree.py`); and which of the files git ignores tools read all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

# Names Python tools (and the wrappers that start them) look for in a directory and its
# parents. Sources: ruff's, mypy's, pytest's, coverage's, flake8's, pylint's, bandit's,
# isort's, pydocstyle's, pyright's and pyenv's documentation of where they search;
# `__init__.py` decides package roots for mypy and pytest; make, just, tox and nox read
# their files in the directory they start in; `.gitignore` and `.ignore` say which files
# ruff and others skip.
TOOL_CONFIG_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "tox.ini",
        "ruff.toml",
        ".ruff.toml",
        "mypy.ini",
        ".mypy.ini",
        "pytest.ini",
        ".pytest.ini",
        "conftest.py",
        ".coveragerc",
        ".bandit",
        ".flake8",
        ".pylintrc",
        "pylintrc",
        ".isort.cfg",
        ".pydocstyle",
        ".pydocstyle.ini",
        "pyrightconfig.json",
        ".python-version",
        "__init__.py",
        "noxfile.py",
        "Makefile",
        "makefile",
        "GNUmakefile",
        "justfile",
        "Justfile",
        ".justfile",
        ".pre-commit-config.yaml",
        ".gitignore",
        ".ignore",
        ".gitattributes",
    }
)

# Ignored files Python tools import or read all the same (a generated `_version.py`, a
# local `settings.py`): the key holds them, and a check in place would lean on them.
READ_WHEN_IGNORED = (".py", ".pyi")


def is_config_name(path: str) -> bool:
    """Whether a top-relative path names a file tools look for by its name."""
    return PurePosixPath(path).name in TOOL_CONFIG_NAMES


def read_when_ignored(ignored: Iterable[str]) -> list[str]:
    """The ignored files tools read all the same: configuration and Python sources, but
    none inside a tool's own cache (a directory whose `.gitignore` git ignores too, as
    pytest, mypy and ruff write theirs to hide themselves). `ignored`: top-relative
    files, as `git status --ignored=matching` lists them one by one."""
    listed = list(ignored)
    caches = tuple(p.removesuffix(".gitignore") for p in listed if p.endswith("/.gitignore"))
    return [
        p
        for p in listed
        if (p.endswith(READ_WHEN_IGNORED) or is_config_name(p)) and not p.startswith(caches)
    ]
