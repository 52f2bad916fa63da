"""The `workflow` command: parses arguments, calls the core, maps outcomes to exit codes.

This is the one place that prints errors and exits. Click turns Ctrl-C into exit 1 and
prints its own "Aborted!"; DESIGN.md promises 130, so the group runs in non-standalone
mode and the mapping below is ours.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from orchestrator.commands import command_names, load_command
from orchestrator.commands.console import guard_console
from orchestrator.engine.proc.breaker import refusal
from orchestrator.model.errors import ExitCode, RunnerBrokenError, UsageError, WorkflowError
from orchestrator.model.version import __version__


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs: `workflow lane` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return command_names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="workflow", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Run a project's CI quality stages in parallel, measured and held to SLA targets."""


def run_cli(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code instead of exiting."""
    try:
        result = _main(argv)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "workflow"
        click.echo(f"{where}: {exc.format_message()} (see '{where} --help')", err=True)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("workflow: interrupted.", err=True)
        return int(ExitCode.SIGINT)
    except WorkflowError as exc:
        for line in exc.lines():
            click.echo(f"workflow: {line}" if line is exc.message else f"  {line}", err=True)
        return int(exc.exit_code)
    return int(result) if isinstance(result, int) else 0


def _main(argv: list[str] | None) -> object:
    try:
        return cli.main(args=argv, prog_name="workflow", standalone_mode=False)
    except FileNotFoundError:
        # Every relative path (the configuration, the reports) starts from the current
        # directory; once it is removed, any of them fails this way.
        try:
            Path.cwd()
        except FileNotFoundError:
            raise UsageError(
                "the current directory no longer exists (removed or moved away); "
                "change to the project's directory and run again."
            ) from None
        raise
    except (OSError, RuntimeError, ImportError) as exc:
        # The system refused workflow itself a resource (no process, thread or file
        # descriptor) outside a run's own handling: the runner is broken, not the change.
        cause = refusal(exc)
        if cause is None:
            raise
        raise RunnerBrokenError(f"runner broken: {cause}") from exc


def main() -> None:
    """Console-script entry point.

    When the command returns, its output is flushed and every thread and process it started
    has ended (the pool and the record writer join theirs). The interpreter's own teardown,
    which frees every loaded module one object at a time, would add tens of milliseconds
    to every run and do nothing else, so the process ends here without it.
    """
    guard_console()
    code = run_cli()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream has nothing more to deliver.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
