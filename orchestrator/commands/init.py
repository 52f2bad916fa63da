"""`workflow init [--dry-run]`: write a commented workflow.toml from what the project has."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from orchestrator.commands.options import project_listing
from orchestrator.model.errors import UsageError
from orchestrator.model.files import write_new
from orchestrator.model.writes import reason
from orchestrator.pipeline.draft import draft_config


@click.command("init")
@click.option("--dry-run", is_flag=True, help="Print the configuration instead of writing it.")
def command(dry_run: bool) -> int:
    """Write workflow.toml from the project's tool settings, test layout, pre-commit local
    hooks, tox environments, nox sessions and Justfile/Makefile recipes; never overwrite."""
    root = Path.cwd()
    target = root / "workflow.toml"
    if not dry_run:
        _refuse_existing(root, target)
    text = draft_config(root, project_listing(root))
    if dry_run:
        click.echo(text, nl=False)
        return 0
    try:
        write_new(target, text)
    except FileExistsError as exc:
        raise UsageError(f"{target}: already exists; workflow init never overwrites it.") from exc
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the configuration: {reason(exc)}.") from exc
    click.echo(
        f"wrote {target}: check it with `workflow validate`, "
        "see its plan with `workflow run --dry-run`"
    )
    return 0


def _refuse_existing(root: Path, target: Path) -> None:
    if target.exists():
        raise UsageError(
            f"{target}: already exists; workflow init never overwrites it "
            "(--dry-run prints what it would write)."
        )
    pyproject = root / "pyproject.toml"
    try:
        tool = tomllib.loads(pyproject.read_text(encoding="utf-8-sig")).get("tool")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        tool = None
    if isinstance(tool, dict) and "workflow" in tool:
        raise UsageError(
            f"{pyproject}: tool.workflow: the project is configured there already; "
            "workflow init writes no workflow.toml beside it (--dry-run prints one)."
        )
