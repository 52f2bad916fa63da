"""When a change cannot be mapped, and every test of a stage runs (DESIGN "Test selection").

The dependency map knows what each test ran and read, so it places changes to Python
code and to the files tests read. Anything else could change any test's outcome without
the map noticing: workflow's configuration, pytest's, a `conftest.py` or another plugin
pytest loads, the interpreter or an installed distribution, a non-Python file under the
stage's inputs that no test is known to read, a new Python module no test imports yet.
`unmappable` compares the run's `Baseline` (recorded when the map was last brought up to
date) with now and names the first such change; pure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from orchestrator.model.selection import DIR_PIECE, FILE_PIECE, DepMap

CONFTEST = "conftest.py"
SHOWN = 3  # paths named in a reason


@dataclass(frozen=True)
class Baseline:
    """What a stage's map was learned against: its inputs (path -> state), the tool's
    environment (`name -> version`: the interpreter and every distribution), a digest of
    workflow's configuration and of pytest's, pytest's plugin files in the project and
    the test file patterns (`python_files`)."""

    inputs: Mapping[str, str]
    environment: Mapping[str, str]
    config: str
    pytest_config: str
    plugins: frozenset[str] = frozenset()
    python_files: tuple[str, ...] = ("test_*.py", "*_test.py")

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, for the history and the run directory."""
        return {
            "inputs": dict(sorted(self.inputs.items())),
            "environment": dict(sorted(self.environment.items())),
            "config": self.config,
            "pytest_config": self.pytest_config,
            "plugins": sorted(self.plugins),
            "python_files": list(self.python_files),
        }


def baseline_from_data(data: Any) -> Baseline:
    """A Baseline read back; ValueError when the data is not one."""
    if not isinstance(data, dict):
        raise ValueError("not a selection baseline")
    try:
        return Baseline(
            inputs={str(k): str(v) for k, v in dict(data["inputs"]).items()},
            environment={str(k): str(v) for k, v in dict(data["environment"]).items()},
            config=str(data["config"]),
            pytest_config=str(data["pytest_config"]),
            plugins=frozenset(str(p) for p in data.get("plugins", ())),
            python_files=tuple(str(p) for p in data.get("python_files", ("test_*.py",))),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a selection baseline: {exc}") from exc


@dataclass(frozen=True)
class Now:
    """The same facts as a Baseline, read before this run."""

    inputs: Mapping[str, str]
    environment: Mapping[str, str]
    config: str
    pytest_config: str


def changed_paths(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """Paths added, removed or changed between two input listings, sorted."""
    return sorted(p for p in before.keys() | now.keys() if before.get(p) != now.get(p))


def environment_change(before: Mapping[str, str], now: Mapping[str, str]) -> str | None:
    """The first difference between two environments, as a phrase; None when equal."""
    for name in sorted(before.keys() | now.keys()):
        old, new = before.get(name), now.get(name)
        if old == new:
            continue
        what = _environment_part(name)
        if name.partition(" ")[2].startswith("files:") or name.startswith("files:"):
            return f"{what} changed"
        if old is None:
            return f"{what} was installed ({new})"
        if new is None:
            return f"{what} was removed (was {old})"
        return f"{what} changed: {old} -> {new}"
    return None


def _environment_part(name: str) -> str:
    """A key of the environment's parts (`cache/key.key_environments`: `envN dist:NAME`,
    `envN files:NAME`, `envN bin:PROGRAM`, `envN python`, the tool's own), as a phrase."""
    part = name.partition(" ")[2] if name.startswith("env") and " " in name else name
    kind, _, what = part.partition(":")
    if kind == "dist":
        return what
    if kind == "files":
        return f"the installed files of {what}"
    if kind == "bin":
        return f"the program {what}"
    return "the interpreter" if part in ("python", "interpreter") else "the tool"


def unmappable(baseline: Baseline | None, now: Now, depmap: DepMap | None) -> str | None:
    """Why the map cannot place this change (every test then runs); None when it can."""
    if baseline is None or depmap is None or not depmap.tests:
        return "no usable map yet: no complete run of this stage has been learned"
    if baseline.config != now.config:
        return "workflow's configuration changed"
    if baseline.pytest_config != now.pytest_config:
        return "pytest's configuration changed"
    moved = environment_change(baseline.environment, now.environment)
    if moved is not None:
        return moved
    read = {v.path for v in depmap.versions.values() if v.name in (FILE_PIECE, DIR_PIECE)}
    python = {v.path for v in depmap.versions.values() if v.name not in (FILE_PIECE, DIR_PIECE)}
    problems: dict[str, list[str]] = {}
    for path in changed_paths(baseline.inputs, now.inputs):
        kind = _kind(path, baseline, now, read, python)
        if kind is not None:
            problems.setdefault(kind, []).append(path)
    for kind in (_CONFTEST, _PLUGIN, _NEW_MODULE, _UNREAD):
        if kind in problems:
            paths = problems[kind]
            shown = ", ".join(paths[:SHOWN]) + (
                f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
            )
            return f"{kind}: {shown}"
    return None


_CONFTEST = "a conftest.py changed"
_PLUGIN = "a pytest plugin changed"
_NEW_MODULE = "a new Python module that no test is known to import"
_UNREAD = "a file that no test is known to read changed"


def _kind(path: str, baseline: Baseline, now: Now, read: set[str], python: set[str]) -> str | None:
    """Why a changed input defeats the map, or None when the map places it."""
    name = PurePosixPath(path).name
    if name == CONFTEST:
        return _CONFTEST
    if path in baseline.plugins:
        return _PLUGIN
    if path in read or path in python:
        return None  # its pieces (or its content) are in the map
    if name.endswith(".py"):
        added = path not in baseline.inputs and path in now.inputs
        is_test = any(fnmatch.fnmatch(name, pattern) for pattern in baseline.python_files)
        # A module nobody imported cannot have changed a test; a new one may be found by a
        # test that looks for it (an optional import, a plugin directory), and a new test
        # file's tests run anyway (they are new).
        return _NEW_MODULE if added and not is_test else None
    return _UNREAD
