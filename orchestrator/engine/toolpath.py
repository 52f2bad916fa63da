"""Where stage commands come from: workflow's own Python environment first (DESIGN.md).

`.venv/bin/workflow run` from a shell that never activated the venv, a CI job, and a
pre-push hook started by a GUI git client with `PATH=/usr/bin:/bin` must all find the
same ruff, mypy, pytest and bandit: the ones installed beside workflow. So a stage's PATH
is the scripts directory of the running interpreter's environment, then the inherited
PATH; `VIRTUAL_ENV` names that environment when it is a virtual one. A stage that sets
`env.PATH` itself gets exactly that PATH.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ToolPath:
    """What workflow adds to the inherited environment of every stage.

    `added`: PATH entries put in front of the inherited PATH (absolute directories; empty
    when the scripts directory already leads the PATH). `virtual_env`: the virtualenv that
    runs workflow, or None when it runs outside one.
    """

    added: tuple[str, ...]
    virtual_env: str | None

    def apply(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The inherited environment with the added PATH entries (and VIRTUAL_ENV) set."""
        env = dict(inherited)
        if self.added:
            rest = env.get("PATH", os.defpath)
            env["PATH"] = os.pathsep.join([*self.added, *([rest] if rest else [])])
        if self.virtual_env is not None:
            env["VIRTUAL_ENV"] = self.virtual_env
        return env

    def describe(self) -> list[str]:
        """Lines for `run --dry-run`: what workflow put on the stages' PATH, and why."""
        if not self.added:
            return ["PATH: unchanged (workflow's scripts directory already comes first)"]
        where = f"the virtualenv {self.virtual_env}" if self.virtual_env else "this Python"
        return [
            f"PATH: added {entry} first (the scripts directory of {where})" for entry in self.added
        ]


def scripts_dir() -> Path:
    """The scripts directory of the Python environment running this process.

    sysconfig knows it for venvs, system and framework installs alike; a venv's scripts
    directory also holds its `python` and `python3`, so those resolve to this interpreter.
    """
    found = sysconfig.get_path("scripts")
    if found:
        return Path(found).absolute()
    return Path(sys.executable).absolute().parent  # pragma: no cover - a stripped build


def tool_path(inherited: Mapping[str, str] | None = None) -> ToolPath:
    """What to add to `inherited` (default: this process's environment)."""
    env = os.environ if inherited is None else inherited
    scripts = str(scripts_dir())
    current = env.get("PATH", "").split(os.pathsep)
    added = () if current and current[0] == scripts else (scripts,)
    virtual = sys.prefix if sys.prefix != sys.base_prefix else None
    return ToolPath(added=added, virtual_env=virtual)


def stage_environment(inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every stage starts from: `inherited` plus workflow's tool path."""
    env = os.environ if inherited is None else inherited
    return tool_path(env).apply(env)


def resolve_executable(command: str, env: Mapping[str, str], cwd: Path) -> str | None:
    """The file `command` runs with this environment's PATH, or None if there is none.

    A command with a `/` is relative to the stage's working directory, as the kernel
    would take it; a bare name is looked up on `env`'s PATH, as the stage's start does.
    """
    if os.sep in command:
        path = cwd / command
        return str(path) if os.access(path, os.X_OK) and path.is_file() else None
    return shutil.which(command, path=env.get("PATH", os.defpath))


def not_found_reason(command: str, cwd: Path, env: Mapping[str, str]) -> str:
    """Why exec said ENOENT: the command is missing, or it is a script whose `#!`
    interpreter is (the kernel reports both the same way)."""
    found = (cwd / command) if "/" in command else None
    if found is None:
        where = shutil.which(command, path=env.get("PATH", os.defpath))
        found = Path(where) if where else None
    if found is not None and found.is_file():
        with contextlib.suppress(OSError), found.open("rb") as script:
            first = script.readline(256)
            if first.startswith(b"#!"):
                interpreter = first[2:].strip().split(b" ")[0].decode(errors="replace")
                return f"bad interpreter {interpreter} (from the #! line of {command})"
    return f"command not found: {command}"
