"""`workflow install-hook`: install or remove the pre-push hook."""

from __future__ import annotations

from pathlib import Path

import click

from lanes.hook import BACKUP_NAME, install_hook, uninstall_hook
from orchestrator.model.errors import UsageError


@click.command("install-hook")
@click.option(
    "--force",
    is_flag=True,
    help=f"Replace a hook workflow did not write; it is kept as {BACKUP_NAME} and runs first.",
)
@click.option("--uninstall", is_flag=True, help="Remove the hook and restore the one it replaced.")
def command(force: bool, uninstall: bool) -> int:
    """Install the pre-push hook (honours core.hooksPath; never overwrites a foreign hook)."""
    if force and uninstall:
        raise UsageError("--force and --uninstall cannot be used together.")
    root = Path.cwd()
    result = uninstall_hook(root) if uninstall else install_hook(root, force=force)
    click.echo(f"pre-push hook {result.action.value}: {result.path}")
    if result.backup is not None and not uninstall:
        click.echo(f"the previous hook is kept as {result.backup} and runs first")
    return 0
