"""Where stage commands come from, and what of workflow's environment a stage starts with.

DESIGN.md "Where stage commands come from": `.venv/bin/workflow run` from a shell that never
activated the venv, a CI job, and a pre-push hook started by a GUI git client with
`PATH=/usr/bin:/bin` must all find the same ruff, mypy, pytest and bandit: the ones
installed beside workflow. So a stage's PATH starts with the scripts directory of the
running interpreter's environment, then the inherited PATH, and `VIRTUAL_ENV` names that
environment when it is a virtual one. **An activated virtualenv wins**: when the inherited
`VIRTUAL_ENV` names another environment (workflow installed with pipx or in a tools venv,
the project's venv activated), its scripts directory comes first, workflow's second, and
`VIRTUAL_ENV` is left as the user set it, so `python`, `pytest` and `mypy` are the ones
that shell would run. A `VIRTUAL_ENV` naming no environment (deleted since it was
activated) is not one: workflow's own comes first, as without it. A stage that sets
`env.PATH` itself gets exactly that PATH.

Every stage also starts without git's hook variables (`model/gitenv.py`). The cache keys a
stage's tools on the PATH `stage_environment` gives: this module is the one rule.
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

from orchestrator.model.gitenv import without_hook_env

VIRTUAL_ENV = "VIRTUAL_ENV"
_SCRIPTS = "Scripts" if os.name == "nt" else "bin"


@dataclass(frozen=True)
class ToolPath:
    """What workflow changes in the inherited environment of every stage.

    `added`: PATH entries put in front of the inherited PATH (absolute directories; empty
    when they already lead the PATH). `virtual_env`: what VIRTUAL_ENV becomes (workflow's
    own virtualenv), or None to leave it as inherited (an activated one) or unset (none).
    `activated`: the user's activated virtualenv, when it is another than workflow's.
    `ignored`: an inherited VIRTUAL_ENV that names no Python environment.
    """

    added: tuple[str, ...]
    virtual_env: str | None
    activated: str | None = None
    ignored: str | None = None
    own_scripts: str = ""

    def apply(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The inherited environment, without git's hook variables, with the added PATH
        entries and VIRTUAL_ENV set."""
        env = without_hook_env(inherited)
        if self.added:
            rest = env.get("PATH", os.defpath)
            env["PATH"] = os.pathsep.join([*self.added, *([rest] if rest else [])])
        if self.virtual_env is not None:
            env[VIRTUAL_ENV] = self.virtual_env
        elif self.ignored is not None:
            env.pop(VIRTUAL_ENV, None)
        return env

    def describe(self) -> list[str]:
        """Lines for `run --dry-run`: what workflow put on the stages' PATH, and why."""
        lines = []
        if self.ignored is not None:
            lines.append(
                f"VIRTUAL_ENV: {self.ignored} is not a Python environment (deleted?); ignored"
            )
        if not self.added:
            lines.append("PATH: unchanged (the scripts directories already come first)")
            return lines
        for index, entry in enumerate(self.added):
            place = "first" if index == 0 else "next"
            if entry != self.own_scripts:
                what = f"the activated virtualenv {self.activated}"
            elif self.activated is not None:
                what = f"workflow's own environment {sys.prefix}"
            elif self.virtual_env is not None:
                what = f"the virtualenv {self.virtual_env}"
            else:
                what = "this Python"
            lines.append(f"PATH: added {entry} {place} (the scripts directory of {what})")
        return lines


def scripts_dir() -> Path:
    """The scripts directory of the Python environment running this process.

    sysconfig knows it for venvs, system and framework installs alike; a venv's scripts
    directory also holds its `python` and `python3`, so those resolve to this interpreter.
    """
    found = sysconfig.get_path("scripts")
    if found:
        return Path(found).absolute()
    return Path(sys.executable).absolute().parent  # pragma: no cover - a stripped build


def activated_scripts(virtual_env: str) -> str | None:
    """The scripts directory of the environment VIRTUAL_ENV names, or None when it names
    none (no such directory, or no interpreter in it: deleted since it was activated)."""
    root = Path(virtual_env)
    if not root.is_absolute():
        return None
    scripts = root / _SCRIPTS
    interpreter = any((scripts / name).exists() for name in ("python", "python3", "python.exe"))
    if not (root / "pyvenv.cfg").is_file() and not interpreter:
        return None
    return str(scripts) if scripts.is_dir() else None


def _same(one: str, other: str) -> bool:
    with contextlib.suppress(OSError):
        return Path(one).samefile(other)
    return os.path.normpath(one) == os.path.normpath(other)


def tool_path(inherited: Mapping[str, str] | None = None) -> ToolPath:
    """What to change in `inherited` (default: this process's environment)."""
    env = os.environ if inherited is None else inherited
    own = str(scripts_dir())
    own_virtual = sys.prefix if sys.prefix != sys.base_prefix else None
    named = env.get(VIRTUAL_ENV, "")
    activated = ignored = None
    front = [own]
    if named and not _same(named, sys.prefix):
        scripts = activated_scripts(named)
        if scripts is None:
            ignored = named
        else:
            activated = named
            front = list(dict.fromkeys([scripts, own]))
    current = env.get("PATH", "").split(os.pathsep)
    added = () if current[: len(front)] == front else tuple(front)
    return ToolPath(
        added=added,
        virtual_env=None if activated is not None else own_virtual,
        activated=activated,
        ignored=ignored,
        own_scripts=own,
    )


def stage_environment(inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every stage starts from: `inherited` without git's hook variables,
    with the tool path applied (the activated virtualenv, then workflow's own, first).

    The result cache keys a stage's tools on this PATH (`cache/fingerprint.search_path`).
    """
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
