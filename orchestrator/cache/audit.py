"""What an audited stage read that its key does not hold (`workflow cache audit`).

Pure: the lines the stage's Python processes wrote (`engine/auditsite`) and strace's
output in, the files read out; then those files against the key's inputs. Only files
of the repository count (and the configuration files above it that the key holds):
the interpreter's library and installed packages are keyed as whole environments;
`.git`, bytecode, tools' own caches and the files the stage itself wrote are not
inputs; workflow's own outputs never are.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# `1234 openat(AT_FDCWD</dir>, "x", O_RDONLY) = 3</dir/x>`, or the `<... openat resumed>`
# half of a call strace split in two.
_CALL = re.compile(r"^(\d+)\s+(?:<\.\.\.\s+)?(open|openat|openat2|creat|execve|execveat)\b(.*)$")
_RETURNED = re.compile(r"=\s+\d+<(.+)>\s*$")
_PROGRAM = re.compile(r'^\("((?:[^"\\]|\\.)*)"')
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
_NOT_INPUTS = frozenset(
    {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
)
_ENVIRONMENT_DIRS = frozenset({".tox", ".nox"})


@dataclass
class Reads:
    """What a stage opened: absolute paths read and written, and programs started."""

    read: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)
    programs: set[str] = field(default_factory=set)


def python_lines(lines: Iterable[str], into: Reads) -> None:
    """Add the lines of workflow's `sitecustomize` (`r`/`w`/`x`, a tab, a path)."""
    for line in lines:
        kind, _, path = line.rstrip("\n").partition("\t")
        if not path:
            continue
        if kind == "r":
            into.read.add(os.path.normpath(path))
        elif kind == "w":
            into.written.add(os.path.normpath(path))
        elif kind == "x":
            into.programs.add(path)


def strace_lines(lines: Iterable[str], into: Reads) -> None:
    """Add strace's `-f -y` output: each open that returned a descriptor (its file from
    `-y`), read or write by its flags; each program `execve` started."""
    pending: dict[str, str] = {}  # pid -> the first half of a call strace split
    for line in lines:
        found = _CALL.match(line)
        if found is None:
            continue
        pid, call, rest = found.groups()
        if "<unfinished ...>" in rest:
            pending[pid] = rest
            continue
        if "resumed>" in rest:
            rest = pending.pop(pid, "") + rest
        if call.startswith("exec"):
            program = _PROGRAM.match(rest)
            if program is not None and rest.rstrip().endswith("= 0"):
                into.programs.add(_unescaped(program.group(1)))
            continue
        returned = _RETURNED.search(rest)
        if returned is None:
            continue
        path = _unescaped(returned.group(1))
        writing = call == "creat" or any(flag in rest for flag in _WRITE_FLAGS)
        (into.written if writing else into.read).add(os.path.normpath(path))


def _unescaped(text: str) -> str:
    if "\\" not in text:
        return text
    raw = codecs.escape_decode(text.encode("utf-8"))[0]
    return os.fsdecode(bytes(raw))


@dataclass(frozen=True)
class Unkeyed:
    """A file the stage read that its key does not hold, and why not."""

    path: str  # relative to the work tree's top
    why: str  # "git ignores it", "outside the stage's directory", "not in its inputs"
    pattern: str  # the `inputs` pattern that names it


@dataclass(frozen=True)
class Findings:
    """The audit's answer: files read outside the key, how many read files the key
    held, and how many it read back after writing them itself (outputs, not inputs)."""

    unkeyed: tuple[Unkeyed, ...]
    keyed: int
    outputs: int
    # Files the key holds that the stage read outside its own directory (configuration
    # found above it, `//` inputs): top-relative, `../` above the top.
    beyond: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Where an audit looks: the work tree's top, the stage's directory (top-relative),
    the roots of keyed environments, workflow's own outputs, and what git ignores."""

    top: Path
    cwd: str
    environments: tuple[Path, ...]
    excluded: tuple[Path, ...]
    ignored: frozenset[str]


def compare(reads: Reads, inputs: Mapping[str, str], scope: Scope) -> Findings:
    """Every regular file of the repository the stage read that `inputs` (the key's
    top-relative paths) does not hold, each with the pattern that would add it."""
    top = Path(os.path.realpath(scope.top))
    keyed = {os.path.realpath(top / path) for path in inputs if not path.startswith("~")}
    outputs = {os.path.realpath(p) for p in reads.written}
    skip = [Path(os.path.realpath(p)) for p in (*scope.environments, *scope.excluded)]
    unkeyed: dict[str, Unkeyed] = {}
    held = own = 0
    home = Path(os.path.realpath(top / scope.cwd))
    beyond: list[str] = []
    for path in sorted({os.path.realpath(p) for p in reads.read}):
        if path in keyed:
            held += 1
            if not _inside(Path(path), home):
                beyond.append(os.path.relpath(path, top))
            continue
        real = Path(path)
        if path in outputs:
            own += 1
            continue
        if not _inside(real, top) or not real.is_file():
            continue
        relative = real.relative_to(top).as_posix()
        if _not_an_input(relative, real, skip):
            continue
        unkeyed[relative] = Unkeyed(relative, _why(relative, scope), _pattern(relative, scope))
    return Findings(tuple(unkeyed.values()), held, own, tuple(beyond))


def suggested_inputs(patterns: tuple[str, ...] | None, findings: Findings) -> str:
    """The stage's `inputs` line with the unkeyed files added (TOML)."""
    kept = list(patterns) if patterns is not None else ["**"]
    added = [u.pattern for u in findings.unkeyed if u.pattern not in kept]
    return "inputs = [" + ", ".join(_toml_string(p) for p in [*kept, *added]) + "]"


def _not_an_input(relative: str, real: Path, skip: list[Path]) -> bool:
    parts = relative.split("/")
    if _NOT_INPUTS & set(parts) or _ENVIRONMENT_DIRS & set(parts) or relative.endswith(".pyc"):
        return True
    if any(real == root or root in real.parents for root in skip):
        return True
    return any((real.parents[i] / "pyvenv.cfg").is_file() for i in range(len(parts) - 1))


def _inside(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def _why(relative: str, scope: Scope) -> str:
    if relative in scope.ignored:
        return "git ignores it"
    if not _under(relative, scope.cwd):
        return "outside the stage's directory"
    return "not in its inputs"


def _pattern(relative: str, scope: Scope) -> str:
    """A pattern naming exactly this file: anchored at the cwd, or `//` at the top."""
    if _under(relative, scope.cwd):
        inner = relative if scope.cwd == "." else relative[len(scope.cwd) + 1 :]
        return "/" + _escape(inner)
    return "//" + _escape(relative)


def _escape(path: str) -> str:
    return "".join("\\" + char if char in "*?[\\" else char for char in path)


def _under(relative: str, cwd: str) -> bool:
    return cwd == "." or relative.startswith(cwd + "/")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
