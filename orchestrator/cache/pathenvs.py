"""Which Python environments a stage can reach: every one on its PATH, and a few beside.

workflow cannot know what a wrapper (`sh -c`, `make`, `tox -e`, `nox`, a script in the
repository) runs, so every key holds every Python environment the stage's programs can
start (DESIGN "Result cache"), in the order the stage's PATH finds them:

- a PATH directory that is an environment's scripts directory (a `pyvenv.cfg` beside it,
  or the environment running workflow);
- a PATH directory holding a `python3` or `python` binary: that interpreter's environment
  (the system's `/usr`, a conda or pyenv install);
- a pyenv `shims` directory: every installed pyenv version (which one a shim starts
  depends on `.python-version` files and variables: all of them count);
- a small PATH directory's links and `#!` scripts into other environments (pipx's
  `~/.local/bin`);
- `VIRTUAL_ENV` and `CONDA_PREFIX` when the stage's environment sets them, the
  virtualenvs in the stage's directory and those above it in the repository (`.venv`,
  which a script may activate), and tox's and nox's there (`.tox/*`, `.nox/*`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestrator.cache.remembered import REMEMBERED

_SCAN_LIMIT = 256  # entries: larger PATH directories (/usr/bin) are not read one by one
_HEAD = 256  # bytes of a script read for its `#!` line
_SCRIPT_SIZE = 64 * 1024  # larger files are programs, not scripts naming an interpreter
_ELF = b"\x7fELF"
_MACHO = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")

# What a PATH directory gave, by its identity (path, inode, mtime): within one process only.
_REACHED: dict[tuple[str, int, int], list[Path]] = {}


def path_environments(
    search_path: str, cwd: Path, environ: Mapping[str, str], beside: Iterable[Path] = ()
) -> list[Path]:
    """The roots of every Python environment reachable from `search_path`, in its order,
    then `VIRTUAL_ENV`, `CONDA_PREFIX` and the directories `beside` (each once)."""
    roots: list[Path] = []
    for entry in search_path.split(os.pathsep):
        directory = Path(entry) if entry else cwd  # an empty entry is the cwd (POSIX)
        roots += _reached(directory if directory.is_absolute() else cwd / directory)
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if environ.get(name) and Path(environ[name]).is_dir():
            roots.append(Path(environ[name]))
    roots += beside
    unique: dict[Path, Path] = {}
    for root in roots:
        unique.setdefault(root.resolve(), root)
    return list(unique.values())


def tool_environments(cwd: Path, top: Path) -> list[Path]:
    """The virtualenvs beside the stage, which a script of the repository may activate
    (`.venv`, `venv`, any directory holding a `pyvenv.cfg`), and tox's and nox's
    environments (`.tox/*`, `.nox/*`), in `cwd` and each directory above it up to `top`."""
    found: list[Path] = []
    directory, top = cwd.resolve(), top.resolve()
    while True:
        found += _beside(directory)
        if directory in (top, directory.parent):
            return found
        directory = directory.parent


def _beside(directory: Path) -> list[Path]:
    found = []
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if not entry.is_dir(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if (path / "pyvenv.cfg").is_file():
                found.append(path)
            elif entry.name in (".tox", ".nox"):
                found += sorted(p for p in path.iterdir() if (p / "pyvenv.cfg").is_file())
    return found


def environment_of(program: Path, depth: int = 0) -> Path | None:
    """The root of the Python environment a program belongs to, or None.

    A file in an environment's scripts directory (a `pyvenv.cfg` beside it, or the
    environment running workflow) belongs to it; so does a script whose `#!` line names
    such an environment's interpreter, and an interpreter binary (its `sys.prefix`).
    """
    bin_dir = program.absolute().parent
    if (bin_dir.parent / "pyvenv.cfg").is_file():
        return bin_dir.parent
    if bin_dir == _own_scripts():
        return Path(sys.prefix)
    interpreter = shebang_interpreter(program)
    if interpreter is not None and interpreter != program and depth < 4:
        return environment_of(interpreter, depth + 1)
    if program.name.startswith("python") and _is_binary(program):
        real = program.resolve()
        return real.parent.parent
    return None


def shebang_interpreter(script: Path) -> Path | None:
    """The Python interpreter a `#!` line names (through `env` on the PATH), or None."""
    head = _head(script)
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    if Path(words[0]).name == "env" and len(words) > 1:
        found = shutil.which(words[-1])
        return None if found is None else Path(found)
    return Path(words[0]) if "python" in Path(words[0]).name else None


def _reached(directory: Path) -> list[Path]:
    try:
        info = directory.stat()
    except OSError:
        return []
    identity = (str(directory), info.st_ino, info.st_mtime_ns)
    if identity not in _REACHED:
        _REACHED[identity] = _environments_in(directory)
    return _REACHED[identity]


def _environments_in(directory: Path) -> list[Path]:
    if (directory.parent / "pyvenv.cfg").is_file():
        return [directory.parent]
    if directory.absolute() == _own_scripts():
        return [Path(sys.prefix)]
    roots = []
    for name in ("python3", "python"):
        candidate = directory / name
        if candidate.is_file() and _is_binary(candidate):
            root = environment_of(candidate)
            if root is not None:
                roots.append(root)
                break
    if directory.name == "shims" and (directory.parent / "versions").is_dir():
        versions = sorted((directory.parent / "versions").iterdir())
        return roots + [v for v in versions if (v / "bin").is_dir()]  # shims are pyenv's
    return roots + _linked(directory)


def _linked(directory: Path) -> list[Path]:
    """Environments that a small PATH directory's links and `#!` scripts lead into;
    remembered by the identity of every entry (a link retargeted or a script edited
    changes its times), since reading each script's first line costs more than a key."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    if len(entries) > _SCAN_LIMIT:
        return []
    stamps = []
    for entry in entries:
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            stamps.append(f"{entry.name}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(sorted(stamps)).encode()).hexdigest()
    remembered = REMEMBERED.recall(f"linked\0{directory}\0{digest}")
    if remembered is not None:
        return [Path(p) for p in json.loads(remembered)]
    roots = [root for entry in entries if (root := _leads_to(entry)) is not None]
    REMEMBERED.keep(f"linked\0{directory}\0{digest}", json.dumps([str(r) for r in roots]))
    return roots


def _leads_to(entry: os.DirEntry[str]) -> Path | None:
    if entry.is_symlink():
        venv = Path(os.path.realpath(entry.path)).parent.parent
        return venv if (venv / "pyvenv.cfg").is_file() else None
    if entry.is_file() and entry.stat().st_size <= _SCRIPT_SIZE:
        interpreter = shebang_interpreter(Path(entry.path))
        if interpreter is not None and interpreter.is_absolute():
            return environment_of(interpreter)
    return None


@functools.cache
def _own_scripts() -> Path:
    """The scripts directory of the environment running workflow."""
    return Path(sysconfig.get_path("scripts")).absolute()


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(_HEAD)
    except OSError:
        return b""


def _is_binary(path: Path) -> bool:
    """An executable format (ELF, Mach-O), not a shim script."""
    return _head(path)[:4] in (_ELF, *_MACHO)
