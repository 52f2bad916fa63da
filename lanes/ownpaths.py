"""Which changed paths the lane may look at: inside the project, and not workflow's own.

Two faults of one kind, "a path that is not the project's change decides the lane":
workflow's own outputs (history database, reports, cache) are never inputs, whether git
ignores them or not (DESIGN), and a `--changed-files` path is a path of the project:
`./x`, `x` and `/abs/project/x` are the same file; `/elsewhere/x` and `../x` are not the
project's and are left out, with a reason.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lanes.changes import ChangeSet, FileChange
from orchestrator.model.ownpaths import own_output_of


def project_path(line: str, root: Path) -> str | None:
    """`line` as a path relative to `root` ("a/b.py"), or None when it lies outside.

    A relative path is taken as relative to `root` already; an absolute one is made
    relative to it (symbolic links in either resolved).
    """
    if line.startswith("/"):
        real_root = os.path.realpath(root)
        real = os.path.realpath(line)
        if real != real_root and not real.startswith(real_root.rstrip("/") + "/"):
            return None
        line = os.path.relpath(real, real_root)
    normal = posixpath.normpath(line)
    if normal == ".." or normal.startswith("../"):
        return None
    return "" if normal == "." else normal


def without_own_outputs(changes: ChangeSet, root: Path, outputs: Sequence[Path]) -> ChangeSet:
    """`changes` less every file that is or lies under one of `outputs` (absolute paths,
    as `LoadedConfig.own_outputs` lists them), with a note naming the outputs it matched."""
    prefixes = [p for p in (project_path(str(out), root) for out in outputs) if p]
    if not prefixes:
        return changes
    kept: list[FileChange] = []
    matched: set[str] = set()
    for change in changes.files:
        owners = [own_output_of(path, prefixes) for path in change.paths]
        if all(owners):
            matched.update(owner for owner in owners if owner)
        else:
            kept.append(change)
    dropped = len(changes.files) - len(kept)
    if not dropped:
        return changes
    note = (
        f"{dropped} changed file{'s' if dropped != 1 else ''} of workflow's own output "
        f"({', '.join(sorted(matched))}) left out: never an input"
    )
    return replace(changes, files=tuple(kept), notes=(*changes.notes, note))
