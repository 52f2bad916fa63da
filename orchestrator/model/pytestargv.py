"""pytest's command line, read in one place: what the program is, where its options start,
which options it is given, and the same line with options taken out or a plugin put in.

Every reader of a stage's pytest argv (the JUnit file it names, a split part's line, a
rerun's line, the selection plugin's place) asks this module, so a new spelling of an
option is one edit here. It stays at the bottom because the configuration's checks and
the SLA's schedule ask `is_pytest` too. The spellings are pytest's own (`pytest --help`):
an option's value follows it as the next argument or after `=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

# pytest options whose value is a separate argument that may name an existing path.
VALUE_OPTIONS = frozenset(
    (
        *("-c", "--config-file", "--rootdir", "--confcutdir", "--basetemp", "-p", "-k", "-m"),
        *("-o", "--override-ini", "-W", "--ignore", "--ignore-glob", "--deselect", "--log-file"),
    )
)


def is_pytest(argv: tuple[str, ...]) -> bool:
    """`pytest ...`, `py.test ...` or `python -m pytest ...`."""
    if not argv:
        return False
    program = PurePosixPath(argv[0].replace("\\", "/")).name.removesuffix(".exe")
    if program in ("pytest", "py.test"):
        return True
    return program.startswith("python") and tuple(argv[1:3]) == ("-m", "pytest")


def options_start(argv: tuple[str, ...]) -> int:
    """How many arguments name the program: 3 for `python -m pytest`, else 1."""
    return 3 if tuple(argv[1:3]) == ("-m", "pytest") else 1


def option_value(argv: tuple[str, ...], names: Iterable[str]) -> str | None:
    """The value of the first of `names` given (`--name VALUE` or `--name=VALUE`), or None."""
    wanted = tuple(names)
    for index, arg in enumerate(argv):
        for name in wanted:
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
            if arg == name and index + 1 < len(argv):
                return argv[index + 1]
    return None


def with_plugin_first(argv: tuple[str, ...], plugin: str) -> tuple[str, ...]:
    """`argv` with `-p plugin` right after the program: its hooks register before those of
    plugins named later on the line."""
    start = options_start(argv)
    return (*argv[:start], "-p", plugin, *argv[start:])


def without_options(
    argv: tuple[str, ...],
    valued: Iterable[str],
    plugins: Iterable[str] = (),
    ini: Iterable[str] = (),
) -> tuple[str, ...]:
    """`argv` without the options `valued` (with their values, either spelling), the
    plugins `plugins` (`-p NAME`, `-pNAME`) and the ini overrides `-o KEY=...` whose
    `KEY=` is in `ini`."""
    names, own, keys = tuple(valued), tuple(plugins), tuple(ini)
    prefixes = tuple(f"{name}=" for name in names)
    attached = {f"-p{name}" for name in own}
    kept: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if (
            arg in names
            or (arg == "-o" and keys and following.startswith(keys))
            or (arg == "-p" and following in own)
        ):
            index += 2
            continue
        index += 1
        if not (arg.startswith(prefixes) or arg in attached):
            kept.append(arg)
    return tuple(kept)


def without_test_paths(argv: tuple[str, ...], names_a_test: Callable[[str], bool]) -> list[str]:
    """`argv` without the positional arguments `names_a_test` accepts (a path or node id
    that exists); options and their values (`-c pytest.ini`) stay."""
    start = options_start(argv)
    kept: list[str] = list(argv[:start])
    rest = argv[start:]
    index = 0
    while index < len(rest):
        arg = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else ""
        index += 1
        if arg in VALUE_OPTIONS and following:
            kept += [arg, following]  # e.g. `-c pytest.ini`: a path that is not a test
            index += 1
            continue
        if not arg.startswith("-") and names_a_test(arg):
            continue
        kept.append(arg)
    return kept
