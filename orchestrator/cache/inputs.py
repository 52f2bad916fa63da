"""Which files are a stage's inputs, and their states (DESIGN "Result cache").

By default, every file git tracks or would track under the stage's cwd; `inputs`
patterns (gitignore-style) choose instead: relative to the cwd, or to the work tree's top
with a leading `//` (`//pyproject.toml`, `//shared/**`), or above the cwd with leading
`../`. A pattern without wildcards names its file even when git ignores it. Whatever the
patterns say, these are inputs too, because tools read them: configuration files below
the cwd (`tests/conftest.py`, a nested `ruff.toml`; `cache/configs.py` adds those above
it), Python sources git ignores but tools import (a generated `_version.py`), and the
files and directories of the repository that the command names (`bash scripts/lint.sh`,
`make -f ci.mk`, `--config ci/ruff.toml`). A symlink is its target text and what it
leads to: a file's content, or every file of a directory (read from the disk, inside the
repository or not). workflow's own outputs are never inputs.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import shlex
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from orchestrator.cache.filestate import MODE_SYMLINK, Unkeyable, content_state, file_state
from orchestrator.cache.snapshot import Snapshot
from orchestrator.model.ownpaths import environments, own_output_of
from orchestrator.model.toolconfigs import is_config_name, read_when_ignored

if TYPE_CHECKING:
    from orchestrator.model.globs import GlobSet

_WILDCARDS = frozenset("*?[\\")
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh"})
_TREE_FILES = 5000  # files of a linked directory read before giving up (a miss)
_TREE_DEPTH = 4  # links to directories followed inside a linked directory
_SKIPPED_DIRS = frozenset({".git", "__pycache__"})


def anchored_patterns(patterns: Iterable[str], cwd: str) -> list[str]:
    """The stage's `inputs` patterns rewritten relative to the work tree's top.

    `cwd` is the stage's directory relative to the top ("." for the top). A pattern with
    a leading `//` is already anchored at the top; leading `../` go up from the cwd; any
    other keeps its gitignore meaning inside the cwd (one without `/` matches at any depth
    below it). Raises Unkeyable for a pattern that leaves the work tree.
    """
    base = [] if cwd == "." else cwd.split("/")
    rewritten = []
    for text in patterns:
        negated = text.startswith("!")
        body = text[1:] if negated else text
        rewritten.append(("!" if negated else "") + _anchored(body, base, text))
    return rewritten


def _anchored(body: str, base: list[str], text: str) -> str:
    if body.startswith("//"):
        return "/" + body.lstrip("/")
    parts = list(base)
    while body.startswith("../"):
        if not parts:
            raise Unkeyable(f"its inputs pattern {text!r} leaves the work tree")
        parts.pop()
        body = body[3:]
    prefix = "".join(_escaped(part) + "/" for part in parts)
    if not prefix:
        return body  # at the top, as written: its gitignore meaning is already the top's
    if "/" in body.rstrip("/"):
        return "/" + prefix + body.lstrip("/")
    return "/" + prefix + "**/" + body  # no `/`: any depth, but only below the cwd


def _escaped(part: str) -> str:
    return "".join("\\" + char if char in _WILDCARDS or char == "!" else char for char in part)


def literal_paths(anchored: Iterable[str]) -> list[str]:
    """The top-relative paths that anchored patterns name without wildcards."""
    return [
        text.lstrip("/")
        for text in anchored
        if not text.startswith("!") and "**" not in text and not (_WILDCARDS & set(text))
    ]


def select_inputs(
    snapshot: Snapshot,
    cwd: str,
    patterns: tuple[str, ...] | None,
    excluded: list[str],
    label: str,
) -> dict[str, str]:
    """path -> state of every input file of a stage whose cwd is `cwd` (top-relative).

    `patterns` are the stage's `inputs` (None: every file under the cwd), `excluded`
    workflow's own outputs (top-relative), `label` the configuration key for messages.
    Raises Unkeyable for what cannot be read (see `Snapshot.state`).
    """
    prefix = "" if cwd == "." else cwd + "/"
    anchored = None if patterns is None else anchored_patterns(patterns, cwd)
    globs = None if anchored is None else _compiled(anchored, label)
    read_anyway = read_when_ignored(snapshot.ignored)
    # Virtualenvs git does not ignore are keyed as environments (`cache/pathenvs.py`),
    # never file by file: one prefix test passes over their thousands of files.
    venvs = tuple(f"{env}/" for env in environments(snapshot.untracked))
    chosen: dict[str, str] = {}
    for path in [*snapshot.paths(), *read_anyway]:
        if venvs and path.startswith(venvs):
            continue
        if own_output_of(path, excluded) is not None:
            continue
        if not _wanted(path, prefix, globs) and not (
            path.startswith(prefix) and is_config_name(path)
        ):
            if globs is not None and snapshot.tracked.get(path, "").startswith(MODE_SYMLINK):
                chosen.update(_through_link(snapshot, path, globs))
            continue
        _add(chosen, snapshot, path)
    for path in literal_paths(anchored or ()):
        if path not in chosen and own_output_of(path, excluded) is None:
            _add(chosen, snapshot, path)
    return chosen


def _compiled(anchored: list[str], label: str) -> GlobSet:
    # The glob matcher loads only for a stage with `inputs`: the keys are computed before
    # the first stage starts, and most stages have none. This module's one deferred import.
    from orchestrator.model.globs import compile_globs  # noqa: PLC0415 - see the comment above

    return compile_globs(anchored, label)


def _wanted(path: str, prefix: str, globs: GlobSet | None) -> bool:
    if globs is None:
        return path.startswith(prefix)
    return globs.match(path) is not None


def _through_link(snapshot: Snapshot, path: str, globs: GlobSet) -> dict[str, str]:
    """A symlink `inputs` do not name but reach into (`lnk/**` for a link to a directory
    `lnk`): the files read through it that the patterns match, and the link itself with
    them, so a change behind it or a new target misses."""
    state = snapshot.state(path)
    if state is None or not state.startswith(MODE_SYMLINK):
        return {}
    entries = linked(snapshot.top, path, state)
    matched = {key: value for key, value in entries.items() if globs.match(key) is not None}
    return {path: entries[path], **matched} if matched else {}


def _add(chosen: dict[str, str], snapshot: Snapshot, path: str) -> None:
    state = snapshot.state(path)
    if state is None:
        return
    if state.startswith(MODE_SYMLINK):
        chosen.update(linked(snapshot.top, path, state))
    else:
        chosen[path] = state


def named_paths(
    argv: tuple[str, ...], cwd: Path, snapshot: Snapshot, chosen: dict[str, str]
) -> dict[str, str]:
    """path -> state of the tracked files (and the tracked files of the directories) that
    the command names, relative to its cwd, beyond those `chosen` already: scripts,
    makefiles, configuration given by option. Only what git tracks: a named file git does
    not track may well be an output (`--junit-xml=out.xml`)."""
    found: dict[str, str] = {}
    top = snapshot.top.resolve()
    tracked = sorted(snapshot.tracked)
    for word in _words(argv):
        candidate = (cwd / word).resolve()
        if candidate != top and top not in candidate.parents:
            continue
        relative = candidate.relative_to(top).as_posix()
        if relative in snapshot.tracked:
            if relative not in chosen:
                _add(found, snapshot, relative)
            continue
        inside = "" if relative == "." else relative + "/"
        start = bisect.bisect_left(tracked, inside)
        for path in tracked[start:]:
            if not path.startswith(inside):
                break
            if path not in chosen and path not in found:
                _add(found, snapshot, path)
    return found


def _words(argv: tuple[str, ...]) -> list[str]:
    """The command's arguments that may name a file: each word, the value of each
    `--option=value`, and the words of a shell's `-c` script."""
    words: list[str] = []
    for index, word in enumerate(argv[1:], start=1):
        if word == "-c" and PurePosixPath(argv[0]).name in _SHELLS and index + 1 < len(argv):
            with contextlib.suppress(ValueError):  # unbalanced quotes: not a script to read
                words += shlex.split(argv[index + 1])
        words.append(word.split("=", 1)[1] if word.startswith("-") and "=" in word else word)
    return [w for w in words if w and not w.startswith("-") and "\0" not in w]


def linked(top: Path, path: str, state: str) -> dict[str, str]:
    """A symlink's entries: itself (its target text), and what reading through it gives:
    the target file's content, or every file of the target directory."""
    target = top / path
    if not target.is_dir():
        return {path: f"{state} -> {content_state(target) or 'missing'}"}
    entries = {path: f"{state} -> directory"}
    budget = [_TREE_FILES]
    entries.update(_tree(target, path, 0, budget, {target.resolve()}))
    return entries


def _tree(
    directory: Path, key: str, depth: int, budget: list[int], seen: set[Path]
) -> dict[str, str]:
    entries: dict[str, str] = {}
    for root, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        base = Path(root)
        relative = base.relative_to(directory).as_posix()
        stem = key if relative == "." else f"{key}/{relative}"
        for name in [*files, *(d for d in dirs if (base / d).is_symlink())]:
            budget[0] -= 1
            if budget[0] < 0:
                raise Unkeyable(f"{key} links to a directory of more than {_TREE_FILES} files")
            entries.update(_entry(base / name, f"{stem}/{name}", depth, budget, seen))
    return entries


def _entry(path: Path, key: str, depth: int, budget: list[int], seen: set[Path]) -> dict[str, str]:
    state = file_state(path)
    if state is None:
        return {}
    if not state.startswith(MODE_SYMLINK):
        return {key: state}
    if not path.is_dir():
        return {key: f"{state} -> {content_state(path) or 'missing'}"}
    real = path.resolve()
    if real in seen or depth >= _TREE_DEPTH:
        raise Unkeyable(f"{key} links to directories too deep or in a loop")
    return {key: f"{state} -> directory", **_tree(path, key, depth + 1, budget, seen | {real})}
