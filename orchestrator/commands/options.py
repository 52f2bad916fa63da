"""Options and helpers shared by several commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TextIO, TypeVar

import click

from orchestrator.configfile.load import LoadedConfig, load_config
from orchestrator.model.errors import ConfigError, UsageError
from orchestrator.model.masking import Masker, run_masker
from orchestrator.model.reportformats import FORMATS
from orchestrator.model.textinput import read_stream, read_text
from orchestrator.model.writes import reason

F = TypeVar("F", bound=Callable[..., object])


class PathArgument(click.Path):
    """A path on the command line: an empty one is a usage error, never "here".

    `Path("")` is the current directory, so `--report-dir ''` would write run
    directories beside workflow.toml; every path option and argument uses this type.
    """

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        if isinstance(value, str) and not value.strip():
            self.fail("the path is empty", param, ctx)
        return super().convert(value, param, ctx)


def path_type(
    *, file_okay: bool = True, dir_okay: bool = True, allow_dash: bool = False
) -> PathArgument:
    """The click type of a path option or argument (a `pathlib.Path`, never empty)."""
    return PathArgument(
        path_type=Path, file_okay=file_okay, dir_okay=dir_okay, allow_dash=allow_dash
    )


def config_option(func: F) -> F:
    """`--config PATH`: default workflow.toml in the current directory, then pyproject.toml."""
    decorated: F = click.option(
        "--config",
        "config_path",
        type=path_type(dir_okay=False),
        default=None,
        help="Configuration file (default: ./workflow.toml, then pyproject.toml).",
    )(func)
    return decorated


def load(config_path: Path | None) -> LoadedConfig:
    """Load the configuration named on the command line, or the default one.

    The built-in stages (no configuration) look only at the files git tracks or would
    track, so a virtualenv or build tree in the project is never linted or scanned.
    """
    return load_config(config_path, files=_git_files)


def configured_masker(config_path: Path | None) -> Masker:
    """The masker of a run, for a command that has a saved record instead of a plan: this
    environment's secrets and those of every configured stage's `env`.

    Raises ConfigError when a configuration named by `--config` cannot be read; without
    one, a configuration that cannot be read adds no secrets (the record is the subject).
    """
    try:
        loaded = load_config(config_path, files=_no_files)
    except ConfigError:
        if config_path is not None:
            raise
        return run_masker(())
    return run_masker(stage.env for stage in loaded.config.stages.values())


def _no_files(_root: Path) -> list[str]:
    return []  # built-in stages carry no env: listing the project would be wasted


def project_listing(root: Path) -> list[str] | None:
    """What git tracks or would track under `root` (None outside a work tree)."""
    return _git_files(root)


def _git_files(root: Path) -> list[str] | None:
    """What git tracks or would track under `root`; asked only for the built-in stages."""
    from lanes.git import project_files  # noqa: PLC0415 - only without a configuration

    return project_files(root)


def change_source_options(func: F) -> F:
    """`--base`, `--head` and `--changed-files`: where the lane's change set comes from."""
    for option in reversed(
        (
            click.option("--base", default=None, metavar="REF", help="Compare with this commit."),
            click.option(
                "--head",
                default=None,
                metavar="REF",
                help="The commit being checked (default HEAD).",
            ),
            click.option(
                "--changed-files",
                default=None,
                metavar="FILE|-",
                help="A list of changed paths, one per line, instead of asking git.",
            ),
        )
    ):
        func = option(func)
    return func


class ChangeInputs(NamedTuple):
    """The change options as the lanes package takes them: values and lines, no streams."""

    base: str | None = None
    head: str | None = None
    changed_files: tuple[str, ...] | None = None  # the listed paths, one per item
    push_lines: tuple[str, ...] | None = None  # the pre-push hook's input lines


def change_inputs(
    base: str | None,
    head: str | None,
    changed_files: str | None,
    *,
    pre_push: bool,
    stdin: TextIO | None = None,
) -> ChangeInputs:
    """Check the change options and read what they point at (a file, standard input).

    Shared by `workflow run` and `workflow lane`, so both refuse the same mistakes.
    Raises UsageError naming the option: an empty value, two readers of standard input,
    a list file that cannot be read.
    """
    for option, value in (("--base", base), ("--head", head), ("--changed-files", changed_files)):
        if value is not None and not value.strip():
            raise UsageError(f"{option}: the value is empty.")
    if pre_push and changed_files == "-":
        raise UsageError("--pre-push and --changed-files - both want standard input.")
    source = stdin or sys.stdin
    listed = None if changed_files is None else tuple(read_path_list(changed_files, source))
    pushed = tuple(read_stream(source).splitlines()) if pre_push else None
    return ChangeInputs(base=base, head=head, changed_files=listed, push_lines=pushed)


def read_path_list(spec: str, stdin: TextIO | None = None) -> list[str]:
    """The lines of `--changed-files FILE|-` (`-`: standard input)."""
    if spec == "-":
        return read_stream(stdin or sys.stdin).splitlines()
    try:
        return read_text(Path(spec)).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = reason(exc) if isinstance(exc, OSError) else str(exc)
        raise UsageError(f"--changed-files: cannot read {spec}: {why}.") from exc


def parse_formats(value: str) -> tuple[str, ...]:
    """`--format html,md,json,junit`."""
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    bad = [name for name in names if name not in FORMATS]
    if bad or not names:
        raise UsageError(
            f"--format: unknown format {', '.join(bad) or '(none)'}; "
            f"choose from {', '.join(FORMATS)}."
        )
    return names
