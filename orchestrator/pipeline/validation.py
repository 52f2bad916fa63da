"""What `workflow validate` warns about beyond the configuration's own rules: commands
that resolve nowhere on the PATH their stage would run with.

A missing command is not a configuration error (a CI job may install the tool after
checking the file), so it is a warning, found the way a run looks the command up
(`engine/toolpath.py`): the stage's own `env.PATH`, else workflow's scripts directory
first, then the inherited PATH; a command with a `/` relative to the stage's `cwd`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.toolpath import resolve_executable, stage_environment


def command_warnings(loaded: LoadedConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """One line per stage whose command cannot be found, naming the key, with the nearest
    program on that PATH when one is close ("rufff": did you mean "ruff"?)."""
    base = stage_environment(os.environ if environ is None else environ)
    lines = []
    for name, stage in loaded.config.ordered_stages():
        if not stage.run:
            continue
        env = {**base, **stage.env}
        command = stage.run[0]
        if resolve_executable(command, env, loaded.resolve(stage.cwd)) is not None:
            continue
        key = f"{loaded.key_prefix}stages.{name}.run"
        if os.sep in command:
            where = loaded.resolve(stage.cwd)
            lines.append(f'{key}: "{command}" is not an executable file (from {where})')
            continue
        own = " (its own env.PATH)" if "PATH" in stage.env else ""
        line = f'{key}: "{command}" is not found on the stage\'s PATH{own}'
        near = nearest_program(command, env.get("PATH", os.defpath))
        if near is not None:
            line += f'; did you mean "{near}"?'
        lines.append(line)
    return lines


def nearest_program(name: str, path: str) -> str | None:
    """The program on `path` whose name is nearest to `name` (difflib, ratio 0.75)."""
    from difflib import get_close_matches  # noqa: PLC0415 - only for a command not found

    found = get_close_matches(name, sorted(set(_programs(path))), n=1, cutoff=0.75)
    return found[0] if found else None


def _programs(path: str) -> Iterator[str]:
    for directory in path.split(os.pathsep):
        try:
            entries = list(os.scandir(directory or "."))
        except OSError:
            continue
        for entry in entries:
            if entry.is_file() and os.access(entry.path, os.X_OK):
                yield entry.name
