"""What a measured process records besides coverage: reads, listings, unfollowed starts.

An audit hook sees every `open`, directory listing and process start. A read or listing
counts when it is of a file under the project (not in an environment or workflow's own
directories) and the project's own code asked for it: a frame of a project file is on
the stack, and the import system is not the one reading. A process start counts when
its Python code would go unmeasured: an environment without workflow's variables (or a
PYTHONPATH without its start-up directory), or a Python started with -I, -E or -S. The
context that started it is then "opaque": its tests always run.

Shared by the `workflow_select` plugin and the processes its tests start
(`select_site`). Standard library only; Python 3.8+.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workflow_pieces import MODULE, function_lines  # type: ignore[import-not-found]

CHILD_ENV = "WORKFLOW_SELECT_CHILD"  # a measured process's settings, for those it starts
CONTEXT_ENV = "WORKFLOW_SELECT_CONTEXT"  # the test (or fixture) a started process works for
PLUGIN_DIR = str(Path(__file__).parent)
SITE_DIR = str(Path(__file__).parent / "select_site")
READING = frozenset(("open", "os.listdir", "os.scandir"))
STARTING = frozenset(("subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn"))
_FRAMES = 40  # how far up the stack a project file's frame is looked for
_PYTHON_FLAGS = frozenset("IES")  # isolated, no PYTHON* variables, no site: unmeasured


def load_coverage(learn: Mapping[str, Any]) -> Any:
    """The coverage package: the stage's own, else workflow's when the interpreters match
    (its compiled tracer is built for one). Raises ImportError."""
    # Coverage loads only in a process that learns (this module's deferred imports).
    try:
        import coverage  # noqa: PLC0415
    except ImportError:
        shim = learn.get("coverage")
        if not shim or learn.get("python") != sys.implementation.cache_tag:
            raise
        sys.path.append(shim)  # after everything of the stage's own
        import coverage  # noqa: PLC0415
    return coverage


def under(path: str, root: str) -> bool:
    """Whether `path` is `root` or inside it (both real, absolute)."""
    return path == root or path.startswith(root + os.sep)


class Seen:
    """What one context read, listed, imported by name, and why it is opaque."""

    __slots__ = ("dirs", "imports", "opaque", "reads")

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.dirs: set[str] = set()
        self.imports: set[str] = set()
        self.opaque: str | None = None


class Watcher:
    """The audit hook's side: what each context reads, lists and starts."""

    def __init__(self, root: str, omit: list[str]) -> None:
        self.root = root
        self.omit = omit
        self.context = ""
        self.seen: dict[str, Seen] = {"": Seen()}
        # path -> the pieces (file, function or "<module>") on the stack when it was read:
        # a test that runs one of them later may get the content from a cache of theirs.
        self.read_by: dict[str, set[tuple[str, str]]] = {}
        self._project: dict[str, str | None] = {}
        self._layouts: dict[str, dict[int, str]] = {}
        self._busy: set[int] = set()

    def current(self) -> Seen:
        """The record of the context that runs now."""
        found = self.seen.get(self.context)
        if found is None:
            found = self.seen[self.context] = Seen()
        return found

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        """Record a read, a listing or a process start of the current context (what the
        recording itself reads, in the same thread, is not the project's)."""
        thread = threading.get_ident()
        if thread in self._busy:
            return
        self._busy.add(thread)
        try:
            self._audit(event, args)
        finally:
            self._busy.discard(thread)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event in READING:
            self._reading(event, args)
        elif event in STARTING:
            why = unfollowed(event, args)
            if why is not None:
                seen = self.current()
                seen.opaque = seen.opaque or why

    def _reading(self, event: str, args: tuple[Any, ...]) -> None:
        target = args[0] if args else None
        if event == "open" and not _reads(args[1] if len(args) > 1 else None, args[2:3]):
            return
        if target is None:
            target = "."
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        if not isinstance(target, (str, os.PathLike)):
            return  # a file descriptor
        path = os.path.abspath(os.path.join(os.getcwd(), os.fspath(target)))
        if not under(path, self.root) or "__pycache__" in path:
            return
        if any(under(path, d) for d in self.omit):
            return
        pieces = self._project_pieces(_caller())
        if not pieces:
            return
        relative = os.path.relpath(path, self.root)
        seen = self.current()
        (seen.reads if event == "open" else seen.dirs).add(relative)
        self.read_by.setdefault(relative, set()).update(pieces)

    def _project_pieces(self, frame: Any) -> set[tuple[str, str]]:
        """The project's pieces on the stack (none: the project's code did not ask, the
        import system, pytest or another tool did)."""
        found: set[tuple[str, str]] = set()
        if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            return found
        for _ in range(_FRAMES):
            if frame is None:
                break
            name = frame.f_code.co_filename
            if name not in self._project:
                self._project[name] = self.project_path(name)
            relative = self._project[name]
            if relative is not None:
                found.add((relative, self._piece_at(name, relative, frame.f_lineno)))
            frame = frame.f_back
        return found

    def _piece_at(self, name: str, relative: str, line: int) -> str:
        layout = self._layouts.get(relative)
        if layout is None:
            try:
                with open(name, encoding="utf-8", errors="surrogateescape") as stream:
                    layout = function_lines(stream.read())
            except (OSError, SyntaxError, ValueError):
                layout = {}
            self._layouts[relative] = layout
        return str(layout.get(line, MODULE))

    def project_path(self, name: str) -> str | None:
        """A code file's path relative to the project, when it is the project's own code
        (not an environment's, not workflow's); None otherwise."""
        if not os.path.isabs(name):
            return None
        real = os.path.realpath(name)
        if not under(real, self.root) or under(real, PLUGIN_DIR):
            return None
        if any(under(real, d) for d in self.omit):
            return None
        return os.path.relpath(real, self.root)


def _caller() -> Any:
    """The frame that raised the audit event (the first one not of workflow's plugins)."""
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(PLUGIN_DIR):
        frame = frame.f_back
    return frame


def _reads(mode: Any, flags: tuple[Any, ...]) -> bool:
    """Whether an `open` reads (a file only written is an output, not an input)."""
    if isinstance(mode, str):
        return "r" in mode or "+" in mode
    if flags and isinstance(flags[0], int):
        return flags[0] & os.O_ACCMODE in (os.O_RDONLY, os.O_RDWR)
    return True


def unfollowed(event: str, args: tuple[Any, ...]) -> str | None:
    """Why the Python code of a process being started would go unmeasured, or None."""
    if event == "subprocess.Popen":
        program, argv, environment = args[0], args[1], args[3]
    elif event == "os.spawn":
        program, argv, environment = args[1], args[2], args[3]
    else:
        program, argv, environment = args[0], args[1], args[2]
    words = [os.fsdecode(a) for a in argv] if isinstance(argv, (list, tuple)) else []
    shown = os.path.basename(os.fsdecode(program) if program else (words[0] if words else "?"))
    values = os.environ if environment is None else _texts(environment)
    if CHILD_ENV not in values:
        return f"it starts {shown} with an environment of its own"
    if SITE_DIR not in values.get("PYTHONPATH", "").split(os.pathsep):
        return f"it starts {shown} with a PYTHONPATH of its own"
    python = shown.startswith("python") or (program and os.fsdecode(program) == sys.executable)
    if python:
        for word in words[1:]:
            if not word.startswith("-") or word.startswith("--") or word in ("-c", "-m"):
                break
            if _PYTHON_FLAGS & set(word[1:]):
                return f"it starts {shown} {word}, which skips workflow's measurement"
    return None


def _texts(environment: Any) -> dict[str, str]:
    try:
        return {os.fsdecode(k): os.fsdecode(v) for k, v in dict(environment).items()}
    except (TypeError, ValueError):
        return {}


def omitted(extra: list[str]) -> list[str]:
    """Directories that are no part of the project even under it: this interpreter's
    environments and installed packages, workflow's plugins, and `extra`."""
    found = [sys.prefix, sys.base_prefix, PLUGIN_DIR, *extra]
    found += [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p)]
    return sorted({os.path.realpath(p) for p in found})
