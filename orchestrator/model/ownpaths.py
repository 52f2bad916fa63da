"""workflow's own outputs in a project, and the one test of whether a path is one of them.

The lane (a change under them never counts) and the cache key (never an input) must agree
on what workflow wrote, so both ask `own_output_of`. The history database's SQLite
companions are listed by name with `with_companions`: a bare "name-" prefix would also
take the project's `out-data/` for an output named `out`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")  # files SQLite keeps beside a database


def with_companions(database: Path) -> tuple[Path, ...]:
    """`database` and the files SQLite may write beside it (`history.db-wal`, ...)."""
    return (database, *(database.with_name(database.name + end) for end in SQLITE_COMPANIONS))


def own_output_of(path: str, outputs: Iterable[str]) -> str | None:
    """The entry of `outputs` that `path` is or lies under, else None.

    Both are project-relative POSIX paths ("out/run/x.json", "out"). An output that is the
    whole project ("" or ".") holds nothing: leaving everything out would be wrong, where
    leaving nothing out is only slow (every cache lookup misses).
    """
    for output in outputs:
        if output in ("", "."):
            continue
        if path == output or path.startswith(output + "/"):
            return output
    return None


ENVIRONMENT_MARK = "pyvenv.cfg"  # what every venv and virtualenv holds at its top


def environments(paths: Iterable[str]) -> tuple[str, ...]:
    """The virtual environments among project-relative paths: the directories holding a
    `pyvenv.cfg` ("", the project itself, never counts).

    A virtualenv git does not ignore (`.venv` in a project without a .gitignore) is the
    tools' installation, not the project's source: the cache keys it by its interpreter
    and distributions (the tool fingerprint), never file by file; its files are no
    change for the lane, and a stage that installs into it edits no source.
    """
    suffix = "/" + ENVIRONMENT_MARK
    return tuple(sorted({path[: -len(suffix)] for path in paths if path.endswith(suffix)}))


def inside(path: str, directories: Iterable[str]) -> bool:
    """Whether `path` lies under one of `directories` (project-relative)."""
    return any(path.startswith(directory + "/") for directory in directories)


def top_environments(top: Path) -> tuple[str, ...]:
    """The virtualenvs directly under the work tree `top` (`.venv`, `venv`, `env`, ...):
    git need not walk their thousands of files to say what changed (a few stat calls)."""
    try:
        children = list(top.iterdir())
    except OSError:
        return ()
    return tuple(
        sorted(
            child.name
            for child in children
            if (child / ENVIRONMENT_MARK).is_file() and not child.is_symlink()
        )
    )
