"""Which tool a stage runs, by what it is rather than where it sits.

The command's first word is resolved on the stage's PATH (DESIGN "Where stage commands
come from"). A program inside a Python environment (a console script, the interpreter
itself) is known by that environment (`cache/environments.py`: interpreter and installed
distributions) and, for a script, by what it runs after its `#!` line; any other program
by its content. What a program that is not a Python tool runs (`sh -c`, `make`, a script
of the repository) cannot be known: it is a wrapper, and the Python environments on its
PATH stand for what it may start (`cache/pathenvs.py`). Paths never count, so a fresh
clone with its own environment of the same packages hits.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cache.environments import EnvironmentMemo, interpreter_of
from orchestrator.cache.pathenvs import environment_of
from orchestrator.cache.scripts import script_digest
from orchestrator.engine.toolpath import stage_environment

FingerprintMemo = EnvironmentMemo  # what one run already learned (never kept between runs)

# What a program is, as `cache explain` says it.
PYTHON_TOOL = "python tool"  # a console script or the interpreter of an environment
PROGRAM = "program"  # anything else: a wrapper, as far as the key can tell
MISSING = "not found"


@dataclass(frozen=True)
class Tool:
    """A stage's tool: its key parts and the Python environment it belongs to, if any."""

    parts: dict[str, str]
    environment: Path | None


def stage_variables(stage_env: Mapping[str, str], inherited: Mapping[str, str]) -> dict[str, str]:
    """The environment a stage starts with: what the engine gives every stage
    (`engine/toolpath.stage_environment`, the one rule), then the stage's own `env`."""
    return {**stage_environment(inherited), **stage_env}


def resolve_tool(argv0: str, cwd: Path, path: str) -> Path | None:
    """The file the command's first word names, or None when there is none."""
    if os.sep in argv0:
        candidate = cwd / argv0
        return candidate if candidate.is_file() else None
    found = shutil.which(argv0, path=path)
    return None if found is None else Path(found)


def tool_fingerprint(tool: Path | None, name: str, memo: EnvironmentMemo) -> Tool:
    """The tool's identity as flat "part -> value" pairs (what `cache explain` compares).

    Shape: {"tool": name, "kind": PYTHON_TOOL, "script": sha256} for a console script
    (its environment is returned beside); {"tool": name, "kind": PROGRAM, "content":
    sha256} for any other program; {"tool": name, "kind": "not found"} without one.
    """
    if tool is None:
        return Tool({"tool": name, "kind": MISSING}, None)
    root = environment_of(tool)
    if root is None:
        content = memo.file_hash(tool.resolve())
        return Tool({"tool": name, "kind": PROGRAM, "content": content}, None)
    parts = {"tool": name, "kind": PYTHON_TOOL}
    interpreter = interpreter_of(root)
    if interpreter is None or tool.resolve() != interpreter:
        parts["script"] = _script_hash(tool)
    return Tool(parts, root)


def _script_hash(tool: Path) -> str:
    try:
        return script_digest(tool.resolve())
    except OSError:
        return "unreadable"
