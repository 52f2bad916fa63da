"""Generated mutations of real git repositories, each checked against the cache keys.

A case names the stages whose key MUST change (a hit there would reuse a pass for work
that changed: a wrong hit), and the stages whose key MAY change (a miss there is a
needless one, accepted where telling it apart would risk a wrong hit). Every other stage
must keep its key. Wrong hits fail the test; needless misses are counted and reported in
the terminal summary of the session (`TALLY`), with the cases that caused them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cache.key import KeyParts, StageIdentity
from orchestrator.pipeline.cachekeys import current_keys

SALT = bytes(32)
Mutation = Callable[[Path], object]


@dataclass(frozen=True)
class Case:
    """One change; the stages that must miss, and those that may."""

    label: str
    mutate: Mutation
    misses: frozenset[str]
    may: frozenset[str] = frozenset()
    setup: Mutation | None = None


@dataclass
class Tally:
    """What a family of cases came to."""

    family: str
    checked: int = 0
    wrong_hits: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # a stage that had to hit missed
    needless: list[str] = field(default_factory=list)  # accepted misses (`may`)


TALLY: list[Tally] = []  # every family run in this session, for the terminal summary


def outcomes(stages: list[StageIdentity], environ: dict[str, str]) -> dict[str, str | None]:
    """Each stage's key digest, or None when it cannot be keyed (it always runs)."""
    found = current_keys(stages, environ, SALT)
    return {n: p.digest() if isinstance(p, KeyParts) else None for n, p in found.items()}


def run_cases(
    family: str,
    cases: Iterable[Case],
    fresh: Callable[[], tuple[Path, list[StageIdentity]]],
    environ: dict[str, str],
) -> Tally:
    """Apply each case to the repository `fresh()` gives (reset or new), keys before and
    after; returns the tally (and keeps it for the summary)."""
    tally = Tally(family)
    for case in cases:
        repo, stages = fresh()
        if case.setup is not None:
            case.setup(repo)
        before = outcomes(stages, environ)
        case.mutate(repo)
        after = outcomes(stages, environ)
        for name in before:
            tally.checked += 1
            missed = after[name] is None or before[name] != after[name]
            label = f"{name}: {case.label}"
            if name in case.misses and not missed:
                tally.wrong_hits.append(label)
            elif missed and name in case.may:
                tally.needless.append(label)
            elif missed and name not in case.misses:
                tally.unexpected.append(label)
    TALLY.append(tally)
    return tally
