"""The facts a stage's selection is decided on, read before it runs (`selectrules.Now`).

Its inputs as git names them (the result cache's reading: every file git tracks or would
track under the stage's cwd, or its `inputs`), the Python environment its command runs
in (the interpreter and every installed distribution, as the cache key reads them), a
digest of workflow's configuration, and a digest of pytest's: `pytest.ini`,
`.pytest.ini`, `[tool.pytest.ini_options]` (and `[tool.pytest]`) of `pyproject.toml`,
`[pytest]` of `tox.ini`, `[tool:pytest]` of `setup.cfg`, in the stage's directory and
every one above it up to the work tree's top.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.cache.environments import EnvironmentMemo
from orchestrator.cache.key import StageIdentity, key_environments, key_inputs
from orchestrator.cache.snapshot import Snapshot
from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.plain import to_data
from orchestrator.model.selectrules import Now
from orchestrator.pipeline.plan import PlannedStage

_PYTEST_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
_SECTIONS = {"tox.ini": "pytest", "setup.cfg": "tool:pytest"}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def relative_cwd(cwd: Path, top: Path) -> str | None:
    """The stage's directory relative to the work tree's top ("." for the top itself);
    None when it lies outside."""
    try:
        relative = cwd.resolve().relative_to(top.resolve())
    except ValueError:
        return None
    return PurePosixPath(relative).as_posix() or "."


def facts_now(
    loaded: LoadedConfig,
    stage: PlannedStage,
    snapshot: Snapshot,
    excluded: tuple[Path, ...],
) -> Now:
    """What the stage's selection depends on besides its map, read now."""
    identity = StageIdentity(stage.name, stage.config, stage.cwd, excluded)
    memo = EnvironmentMemo()
    return Now(
        inputs=key_inputs(identity, snapshot, os.environ, memo),
        environment=key_environments(identity, snapshot.top, os.environ, memo),
        config=_digest(to_data(loaded.config)),
        pytest_config=pytest_config_digest(stage.cwd, snapshot.top),
    )


def pytest_config_digest(cwd: Path, top: Path) -> str:
    """A digest of pytest's configuration in `cwd` and its parents up to `top`."""
    found: list[tuple[str, Any]] = []
    directory = cwd.resolve()
    top = top.resolve()
    while True:
        for name in _PYTEST_FILES:
            path = directory / name
            if path.is_file():
                found.append((str(path.relative_to(top)), _pytest_part(path)))
        if directory in (top, directory.parent):
            break
        directory = directory.parent
    return _digest(found)


def _pytest_part(path: Path) -> Any:
    """The part of a configuration file pytest reads (its whole text when it cannot be
    read as its format)."""
    try:
        text = path.read_text("utf-8", "surrogateescape")
    except OSError as exc:
        return f"unreadable: {exc}"
    try:
        if path.name == "pyproject.toml":
            return tomllib.loads(text).get("tool", {}).get("pytest")
        if path.name in _SECTIONS:
            parser = configparser.RawConfigParser()
            parser.read_string(text)
            section = _SECTIONS[path.name]
            return dict(parser.items(section)) if parser.has_section(section) else None
    except (tomllib.TOMLDecodeError, configparser.Error):
        return text
    return text
