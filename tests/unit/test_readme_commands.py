"""The README's table of commands names every option each command takes.

Read from the click commands themselves (the options `--help` prints), so an option
added to a command without its README row fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from orchestrator.commands import command_names, load_command

README = Path(__file__).resolve().parents[2] / "README.md"


def command_rows() -> dict[str, str]:
    """`workflow NAME` -> the text of its row(s) in the README's Commands table."""
    section = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        found = re.match(r"\| `workflow ([a-z-]+)", line)
        if found:
            rows[found.group(1)] = rows.get(found.group(1), "") + line
    return rows


def option_names(command: click.Command) -> set[str]:
    """Every option's longest spelling, of the command and its subcommands (not --help)."""
    names = {
        max(param.opts + param.secondary_opts, key=len)
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
    }
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            names |= option_names(sub)
    return names - {"--help"}


def test_every_command_and_option_is_in_the_readme() -> None:
    rows = command_rows()
    missing = []
    for name in command_names():
        command = load_command(name)
        assert command is not None
        row = rows.get(name, "")
        missing += [f"{name} {option}" for option in option_names(command) if option not in row]
        if not row:
            missing.append(name)
    assert missing == []


def test_the_run_id_in_the_readme_looks_like_a_real_one() -> None:
    shown = re.findall(r"run (\d{8}T\S+)\)", README.read_text(encoding="utf-8"))
    assert shown
    assert all(re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}", run_id) for run_id in shown)


def test_the_readme_s_prose_keeps_to_its_wrap_width() -> None:
    long = [
        number
        for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > 92
        and not line.startswith(("|", "python3 -m venv", "    "))
        and not re.fullmatch(r"`[^`]+`[.,;:]?", line)  # one code span cannot be wrapped
    ]
    assert long == []
