"""Test selection's values and its decision: which known tests a change cannot affect.

DESIGN.md, "Test selection". A stage's dependency map holds, for every test it knows,
how the test ended when it last ran and the pieces it depended on then, each as a piece
version (file, piece, fingerprint): the function bodies it ran, the class and module
bodies of every module it imported, the files and directories it read. A test is
skipped only when it passed and every one of its piece versions is still current; it
runs when it failed, is new (not in the map), is opaque (it started a process workflow
could not follow), or when any piece it depends on changed, and the reason names that
piece. Pure: the caller reads the files and the history, this module decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from orchestrator.model.units import count

FILE_PIECE = "<file>"  # a data file's content, as a piece of the file
DIR_PIECE = "<dir>"  # a directory's listing
REASON_PIECES = 3  # changed pieces named in a reason before "and N more"


class SelectMode(StrEnum):
    """`select` of a stage: every test, only those a change can affect, or every test
    while recording what `affected` would have skipped."""

    ALL = "all"
    AFFECTED = "affected"
    SHADOW = "shadow"


class PieceVersion(NamedTuple):
    """One piece of one file as a test saw it: `path` relative to the work tree's top,
    `name` a function or class (`Parser.parse`), `<module>`, `<file>` or `<dir>`. (A
    tuple: a map holds millions of them in sets, and a tuple hashes in C.)"""

    path: str
    name: str
    fingerprint: str

    @property
    def shown(self) -> str:
        """ "src/pkg/core.py: Parser.parse" (a whole file or directory: its path)."""
        return self.path if self.name in (FILE_PIECE, DIR_PIECE) else f"{self.path}: {self.name}"


@dataclass(frozen=True)
class TestEntry:
    """A known test: how it last ended ("passed" or "failed"), in which run, the piece
    sets it depends on (ids into `DepMap.sets`), and why it is opaque (None: it is not)."""

    __test__ = False

    outcome: str
    run_id: str
    sets: tuple[int, ...]
    opaque: str | None = None


@dataclass(frozen=True)
class DepMap:
    """A stage's dependency map: piece versions by id, interned sets of them by id, tests."""

    versions: Mapping[int, PieceVersion]
    sets: Mapping[int, frozenset[int]]
    tests: Mapping[str, TestEntry]

    def paths(self) -> set[str]:
        """Every file or directory some piece version names."""
        return {version.path for version in self.versions.values()}


Current = Callable[[str, str], str | None]  # (path, piece name) -> its fingerprint now


@dataclass(frozen=True)
class Decision:
    """What selection decided for a stage before it runs.

    `run_all`: why every test runs (None: the map decides). `skip`: known tests that
    need not run. `why`: each known test that runs, and why. `changed`: the changed
    pieces that make tests run, most tests first. `known`: tests in the map.
    """

    run_all: str | None
    skip: frozenset[str] = frozenset()
    why: Mapping[str, str] = field(default_factory=dict)
    changed: tuple[str, ...] = ()
    known: int = 0

    @property
    def reason(self) -> str:
        """One phrase: "everything runs: ...", "changed: a, b and 3 more", or why nothing
        known needs to run."""
        if self.run_all is not None:
            return f"everything runs: {self.run_all}"
        if self.changed:
            shown = ", ".join(self.changed[:REASON_PIECES])
            more = len(self.changed) - REASON_PIECES
            return f"changed: {shown}" + (f" and {more} more" if more > 0 else "")
        failed = sum(1 for why in self.why.values() if why.startswith("it failed"))
        opaque = len(self.why) - failed
        parts = [f"{count(failed, 'test')} failed last time"] if failed else []
        if opaque:
            verb = "runs" if opaque == 1 else "run"
            parts.append(
                f"{count(opaque, 'test')} always {verb} (starting processes workflow cannot follow)"
            )
        lead = "nothing a known test depends on changed"
        return f"{lead}; {', '.join(parts)}" if parts else lead

    def to_data(self) -> dict[str, Any]:
        """JSON-ready: what the run keeps of the decision."""
        return {
            "run_all": self.run_all,
            "skip": sorted(self.skip),
            "changed": list(self.changed),
            "known": self.known,
        }


def stale_versions(depmap: DepMap, current: Current) -> frozenset[int]:
    """Ids of the piece versions whose fingerprint is not the current one (or whose
    piece is gone)."""
    return frozenset(
        vid
        for vid, version in depmap.versions.items()
        if current(version.path, version.name) != version.fingerprint
    )


def decide(depmap: DepMap, current: Current, run_all: str | None = None) -> Decision:
    """Which known tests can be skipped, and why each other one runs.

    `run_all` (a change the map cannot place, found by `model/selectrules.py`) makes
    every test run, with that reason.
    """
    if run_all is not None:
        return Decision(run_all=run_all, known=len(depmap.tests))
    stale = stale_versions(depmap, current)
    stale_sets = {sid: members & stale for sid, members in depmap.sets.items() if members & stale}
    skip: set[str] = set()
    why: dict[str, str] = {}
    blamed: Counter[int] = Counter()
    for test, entry in depmap.tests.items():
        if entry.outcome != "passed":
            why[test] = f"it {entry.outcome} in run {entry.run_id}"
        elif entry.opaque is not None:
            why[test] = f"it always runs: {entry.opaque}"
        else:
            culprits = set().union(*(stale_sets.get(sid, ()) for sid in entry.sets))
            if not culprits:
                skip.add(test)
                continue
            first = min(culprits, key=lambda vid: depmap.versions[vid].shown)
            blamed.update(culprits)
            why[test] = f"{depmap.versions[first].shown} changed"
    ranked = sorted(blamed, key=lambda vid: (-blamed[vid], depmap.versions[vid].shown))
    changed = tuple(dict.fromkeys(depmap.versions[vid].shown for vid in ranked))
    return Decision(
        run_all=None, skip=frozenset(skip), why=why, changed=changed, known=len(depmap.tests)
    )


def explain_test(depmap: DepMap, current: Current, decision: Decision, test: str) -> list[str]:
    """Why `test` would run or be skipped, naming the changed piece (lines to print)."""
    entry = depmap.tests.get(test)
    if decision.run_all is not None:
        return [f"{test}: would run: everything runs: {decision.run_all}"]
    if entry is None:
        return [f"{test}: would run: it is new (no run of it is in the map)"]
    if test in decision.why:
        lines = [f"{test}: would run: {decision.why[test]}"]
        stale = stale_versions(depmap, current)
        members = set().union(*(depmap.sets.get(sid, frozenset()) for sid in entry.sets))
        lines += [f"  changed: {depmap.versions[v].shown}" for v in sorted(members & stale)]
        return lines
    members = set().union(*(depmap.sets.get(sid, frozenset()) for sid in entry.sets))
    shown = sorted({depmap.versions[vid].shown for vid in members})
    lines = [
        f"{test}: would be skipped: it passed in run {entry.run_id} and none of the "
        f"{len(shown)} pieces it depends on changed"
    ]
    return lines + [f"  {piece}" for piece in shown]


@dataclass(frozen=True)
class SelectRun:
    """What a pytest stage is told to select and learn (`engine/pytest/selectrun.py`).

    `skip`: the tests it deselects (`affected`); `would_skip`: in `shadow` mode, what
    `affected` would have deselected (everything runs); `learn`: the plugin's settings
    for measuring (None: nothing is measured); `record`: what the run keeps for updating
    the map afterwards (the facts the decision was made on), JSON-ready.
    """

    mode: SelectMode
    reason: str
    skip: frozenset[str] = frozenset()
    would_skip: frozenset[str] = frozenset()
    learn: Mapping[str, Any] | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    decision: Decision | None = None  # the decision itself, for `--dry-run` and `explain`
