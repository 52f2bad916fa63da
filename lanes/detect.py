"""The lane rules of DESIGN.md as one pure function over a change set and `[detect]`.

Order matters and is the safe one: unknown changes, a heavy path or a large change make
HEAVY even when every file is documentation; DOCS needs every name (both names of a
rename) to match `detect.docs`; anything else is STANDARD.
"""

from __future__ import annotations

from collections.abc import Sequence

from lanes.changes import ChangeSet, LaneDecision
from orchestrator.model.config import DetectConfig, Lane
from orchestrator.model.globs import GlobSet, compile_globs

SHOWN = 5  # paths named in one reason before "and N more"


def choose_lane(changes: ChangeSet, detect: DetectConfig) -> LaneDecision:
    """DOCS, STANDARD or HEAVY (None: nothing changed), with the reasons."""
    paths = changes.paths
    notes = changes.notes
    if changes.undetermined is not None:
        return LaneDecision(Lane.HEAVY, (changes.undetermined, *notes), changes.base, paths)
    if not paths:
        return LaneDecision(
            None, (f"nothing changed in {changes.description}", *notes), changes.base
        )
    summary = _summary(changes)
    heavy = _heavy_reasons(changes, detect)
    if heavy:
        return LaneDecision(Lane.HEAVY, (*heavy, summary, *notes), changes.base, paths)
    docs = compile_globs(detect.docs, "detect.docs")
    matched = [(path, docs.match(path)) for path in paths]
    others = [path for path, pattern in matched if pattern is None]
    if not others:
        shown = [f"{path} ({pattern})" for path, pattern in matched]
        reason = f"every changed file matches detect.docs: {_listing(shown)}"
        return LaneDecision(Lane.DOCS, (reason, summary, *notes), changes.base, paths)
    noun = "file is" if len(others) == 1 else "files are"
    reason = (
        f"{len(others)} changed {noun} not documentation ({_listing(others)}) "
        "and none matches detect.heavy or is too large"
    )
    return LaneDecision(Lane.STANDARD, (reason, summary, *notes), changes.base, paths)


def _heavy_reasons(changes: ChangeSet, detect: DetectConfig) -> list[str]:
    heavy = compile_globs(detect.heavy, "detect.heavy")
    reasons = []
    hits = _matches(heavy, changes.paths)
    if hits:
        verb = "matches" if len(hits) == 1 else "match"
        reasons.append(f"{_listing(hits)} {verb} detect.heavy")
    if changes.file_count > detect.heavy_files:
        reasons.append(
            f"{changes.file_count} files changed, more than detect.heavy_files "
            f"({detect.heavy_files})"
        )
    if changes.lines_known and changes.line_count > detect.heavy_lines:
        reasons.append(
            f"{changes.line_count} lines changed, more than detect.heavy_lines "
            f"({detect.heavy_lines})"
        )
    return reasons


def _matches(globs: GlobSet, paths: Sequence[str]) -> list[str]:
    found = []
    for path in paths:
        pattern = globs.match(path)
        if pattern is not None:
            found.append(f"{path} ({pattern})")
    return found


def _summary(changes: ChangeSet) -> str:
    files = "1 file" if changes.file_count == 1 else f"{changes.file_count} files"
    if not changes.lines_known:
        return f"{files} changed in {changes.description} (line counts unknown)"
    lines = "1 line" if changes.line_count == 1 else f"{changes.line_count} lines"
    return f"{files} and {lines} changed in {changes.description}"


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    rest = len(items) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown
