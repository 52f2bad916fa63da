"""Which would-be hits a run checks by running them anyway (`[workflow] cache_verify`).

A key can miss something a stage reads (a file workflow cannot know of); a stored pass
that would now fail is the one failure a cache must never hide. `cache_verify = 0.05`
runs about that share of would-be hits anyway and compares the outcome (DESIGN "Result
cache"). The draw is a pure function of the run's seed (recorded in the run record) and
the stage's name: the same seed picks the same stages, and a higher rate picks a superset.
"""

from __future__ import annotations

import hashlib
import os

_SCALE = float(1 << 64)


def new_seed() -> int:
    """A seed for one run: 32 random bits from the operating system."""
    return int.from_bytes(os.urandom(4), "big")


def draw(seed: int, stage: str) -> float:
    """The stage's number in [0, 1) for this seed: the same inputs, the same number."""
    digest = hashlib.sha256(f"{seed}\0{stage}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def chosen(seed: int, stage: str, rate: float) -> bool:
    """Whether this run verifies the stage's would-be hit: `rate` 0 never, 1 always."""
    return draw(seed, stage) < rate
