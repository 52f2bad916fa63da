"""The names of the files tools read their settings from, in the directory they start in
and in each directory above it: one list for what a cache key holds (`cache/configs.py`)
and for what makes a pushed commit's check leave the work tree (`lanes/pushtree.py`).
"""

from __future__ import annotations

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
