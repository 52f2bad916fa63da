"""The configuration files tools find by themselves, wherever they live (DESIGN "Result
cache": "What tools read counts, wherever it lives").

ruff, mypy, pytest, bandit, coverage, flake8, pylint and the rest look for their
configuration in the directory they start in and then in each directory above it
(`pyproject.toml`, `setup.cfg`, `tox.ini`, `ruff.toml`, `mypy.ini`, `pytest.ini`,
`conftest.py`, ...), and some in the user's own configuration directory. So every key
holds, `inputs` or not: the files of those names in the stage's directory and every
directory above it up to the file system's root (a file created there later changes the
key: its absence was part of it), the files of those names anywhere below the stage's
directory that git tracks or would track (or ignores: tools read them all the same), and
the user-level files. Paths are keyed relative to the work tree's top (`../x` above it,
`~/x` in the home directory), never as absolute paths, so a clone elsewhere hits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestrator.cache.filestate import content_state
from orchestrator.model.toolconfigs import TOOL_CONFIG_NAMES, is_config_name

# The names tools look for in a directory and its parents: `model/toolconfigs.py`, shared
# with the pre-push check's question of whether a change above a stage touches it.
CONFIG_NAMES = TOOL_CONFIG_NAMES

# User-level configuration, relative to the configuration home ($XDG_CONFIG_HOME, else
# ~/.config) or the home directory: read when a project has none of its own.
USER_CONFIG = (
    ("config", "ruff/ruff.toml"),
    ("config", "ruff/.ruff.toml"),
    ("config", "ruff/pyproject.toml"),
    ("config", "mypy/config"),
    ("config", "flake8"),
    ("config", "pycodestyle"),
    ("config", "pylintrc"),
    ("config", "pip/pip.conf"),
    ("home", ".mypy.ini"),
    ("home", ".pylintrc"),
    ("home", ".pydistutils.cfg"),
)


def ancestor_configs(cwd: Path, top: Path) -> dict[str, Path]:
    """key path -> file, for every configuration file in `cwd` and each directory above it.

    Key paths are relative to `top` (`pyproject.toml`, `services/api/setup.cfg`,
    `../pyproject.toml` above the work tree). Only files that exist are returned: a file
    that appears later adds a key path, so its absence was keyed too.
    """
    found: dict[str, Path] = {}
    top = top.resolve()
    directory = cwd.resolve()
    while True:
        prefix = _key_prefix(directory, top)
        for name in CONFIG_NAMES:
            candidate = directory / name
            if os.path.lexists(candidate):
                found[prefix + name] = candidate
        if directory.parent == directory:
            return found
        directory = directory.parent


def user_configs(environ: Mapping[str, str]) -> dict[str, Path]:
    """key path ("~config/ruff/ruff.toml", "~/.mypy.ini") -> file, for those that exist."""
    home = Path(environ.get("HOME") or Path.home())
    config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    found = {}
    for base, relative in USER_CONFIG:
        path = (config_home if base == "config" else home) / relative
        if os.path.lexists(path):
            found[("~config/" if base == "config" else "~/") + relative] = path
    return found


def config_states(files: Mapping[str, Path]) -> dict[str, str]:
    """key path -> "mode blob" of what a tool reads there (links followed); a path that
    is a directory or a dangling link counts as "absent" (a tool finds no file)."""
    return {key: content_state(path) or "absent" for key, path in files.items()}


def configs_below(paths: Iterable[str], prefix: str) -> list[str]:
    """The paths under `prefix` (top-relative, "" for the top) that name configuration."""
    return [p for p in paths if p.startswith(prefix) and is_config_name(p)]


def _key_prefix(directory: Path, top: Path) -> str:
    """How a file in `directory` is keyed: top-relative, with `../` above the top."""
    if directory == top or top in directory.parents:
        relative = directory.relative_to(top).as_posix()
        return "" if relative == "." else relative + "/"
    return "../" * (len(top.parts) - len(directory.parts))
