"""Install and remove the pre-push hook that runs `workflow run --lane auto --pre-push`.

The hook lives where `git rev-parse --git-path hooks` says (core.hooksPath, worktrees,
submodules). It calls the Python that installed it by absolute path, so a push from a
shell whose PATH lacks the virtualenv still finds `workflow`. A hook someone else wrote is
kept as `pre-push.workflow-backup` (only with --force) and runs first, on the same input.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lanes import git
from lanes.prepush import REMOTE_ENV
from orchestrator.model.errors import UsageError
from orchestrator.model.files import EXECUTABLE, staged
from orchestrator.model.writes import reason

HOOK_NAME = "pre-push"
BACKUP_NAME = "pre-push.workflow-backup"
MARKER = "# workflow-pre-push-hook: written by `workflow install-hook`"
SKIP_ENV = "WORKFLOW_SKIP"
CONFIG_FILES = ("workflow.toml", "pyproject.toml")  # where `workflow` looks, in order

_TEMPLATE = """#!/bin/sh
{marker}
# Runs `workflow run --lane auto --pre-push` on the commits being pushed.
# Skip once with WORKFLOW_SKIP=1; remove with `workflow install-hook --uninstall`.
backup="$(dirname -- "$0")/{backup}"
python={interpreter}
{remote_env}="$1"
export {remote_env}
if [ -x "$backup" ]; then
    # git writes the pushed refs on stdin once: keep a copy so both hooks read all of it.
    input=$(mktemp "${{TMPDIR:-/tmp}}/workflow-pre-push.XXXXXX") || exit 1
    cat >"$input"
    exec 3<"$input" 4<"$input"
    rm -f -- "$input"
    "$backup" "$@" <&3 3<&- 4<&- || exit $?
    exec <&4 3<&- 4<&-
fi
if [ "${{{skip}:-}}" = "1" ]; then
    echo "workflow: {skip}=1: skipping the pre-push checks." >&2
    exit 0
fi
if [ ! -x "$python" ]; then
    echo "workflow: $python is gone; run \\`workflow install-hook\\` again." >&2
    exit 1
fi
{cd}
exec {command} run --lane auto --pre-push
"""


class Action(StrEnum):
    """What `install-hook` did."""

    INSTALLED = "installed"
    UPDATED = "updated"
    REPLACED = "installed; the previous hook was kept and runs first"
    REMOVED = "removed"
    RESTORED = "removed; the previous hook was put back"
    ABSENT = "not installed; nothing to remove"


@dataclass(frozen=True)
class HookResult:
    """The hook's path, what happened to it, and where the old hook went."""

    action: Action
    path: Path
    backup: Path | None = None


def default_command() -> tuple[str, ...]:
    """This very `workflow`: the running interpreter, by absolute path, as a module."""
    # absolute(), not resolve(): a virtualenv's python is a symlink that must stay one.
    return (str(Path(sys.executable).absolute()), "-m", "orchestrator")


def hook_script(command: Sequence[str], project_prefix: str = "") -> str:
    """The hook's text; `project_prefix` is the project's directory within the work tree."""
    cd = f"cd -- {shlex.quote(project_prefix)} || exit 1" if project_prefix else ""
    return _TEMPLATE.format(
        marker=MARKER,
        command=shlex.join(command),
        backup=BACKUP_NAME,
        remote_env=REMOTE_ENV,
        skip=SKIP_ENV,
        interpreter=shlex.quote(command[0]),
        cd=cd,
    )


def project_prefix(root: Path) -> str:
    """Where the hook runs `workflow`: the nearest directory with a configuration file."""
    top = git.toplevel(root).resolve()
    directory = root.resolve()
    while directory != top and top in directory.parents and not _has_config(directory):
        directory = directory.parent
    if directory == top or top not in directory.parents:
        return ""
    return f"{directory.relative_to(top).as_posix()}/"


def _has_config(directory: Path) -> bool:
    return any((directory / name).is_file() for name in CONFIG_FILES)


def is_ours(path: Path) -> bool:
    """Whether the file at `path` is a hook this tool wrote."""
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install_hook(
    root: Path, *, force: bool = False, command: Sequence[str] | None = None
) -> HookResult:
    """Write the hook; a hook someone else wrote is kept as a backup, and only with `force`."""
    hooks = git.git_path(root, "hooks")
    hook = hooks / HOOK_NAME
    backup = hooks / BACKUP_NAME
    text = hook_script(command or default_command(), project_prefix(root))
    try:
        hooks.mkdir(parents=True, exist_ok=True)
        # staged first: a hook that cannot be written leaves the old one (and no backup)
        with staged(hook, text, EXECUTABLE):
            action = Action.INSTALLED
            if hook.exists() or hook.is_symlink():
                action = Action.UPDATED if is_ours(hook) else _keep_foreign(hook, backup, force)
    except OSError as exc:
        raise UsageError(f"{hook}: cannot write the hook: {reason(exc)}.") from exc
    return HookResult(action, hook, backup if backup.exists() else None)


def uninstall_hook(root: Path) -> HookResult:
    """Remove our hook and put back the one it replaced; never touch someone else's."""
    hooks = git.git_path(root, "hooks")
    hook = hooks / HOOK_NAME
    backup = hooks / BACKUP_NAME
    if not (hook.exists() or hook.is_symlink()):
        return HookResult(Action.ABSENT, hook)
    if not is_ours(hook):
        raise UsageError(f"{hook}: this pre-push hook was not written by workflow; left alone.")
    try:
        if backup.exists() or backup.is_symlink():
            backup.replace(hook)
            return HookResult(Action.RESTORED, hook, backup)
        hook.unlink()
    except OSError as exc:
        raise UsageError(f"{hook}: cannot remove the hook: {reason(exc)}.") from exc
    return HookResult(Action.REMOVED, hook)


def _keep_foreign(hook: Path, backup: Path, force: bool) -> Action:
    if not force:
        raise UsageError(
            f"{hook}: a pre-push hook that workflow did not write is in the way; "
            f"--force keeps it as {BACKUP_NAME} and runs it first."
        )
    if backup.exists() or backup.is_symlink():
        raise UsageError(
            f"{backup}: a backup of an earlier hook is already there; move it away first."
        )
    hook.replace(backup)
    return Action.REPLACED
