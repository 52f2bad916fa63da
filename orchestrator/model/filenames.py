"""Stage names are user text; this turns each into its own short, safe file name stem.

A stage called `unit tests` and one called `unit_tests` must never share a log, and a
300-character name must not exceed the file system's 255-byte limit. The stem is the name
itself when that is already a safe, short, lower-case file name; otherwise a readable
prefix (unsafe characters as `_`, lower case, at most `PREFIX_CHARS`) plus `-` and a hash
of the exact name. Lower case keeps `Unit` and `unit` apart on case-insensitive file
systems (macOS, Windows), and a plain name that merely looks like a hashed stem is hashed
too, so the two kinds of stem can never meet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

PREFIX_CHARS = 40
HASH_CHARS = 16  # 64 bits of SHA-256: distinct names in one project never meet
_PLAIN = re.compile(rf"[a-z0-9_][a-z0-9._-]{{0,{PREFIX_CHARS - 1}}}")
_LOOKS_HASHED = re.compile(rf"-[0-9a-f]{{{HASH_CHARS}}}$")
_UNSAFE = re.compile(r"[^a-z0-9._-]")


def file_stem(name: str) -> str:
    """The file name stem (no extension) for stage `name`: at most 57 ASCII characters.

    Distinct names give distinct stems, also when compared without regard to case.
    """
    if _PLAIN.fullmatch(name) and not _LOOKS_HASHED.search(name):
        return name
    import hashlib  # noqa: PLC0415 - only unusual names need it; start-up stays lean

    prefix = _UNSAFE.sub("_", name.lower())[:PREFIX_CHARS].lstrip(".") or "stage"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{prefix}-{digest}"


@dataclass(frozen=True)
class RunDir:
    """A run's directory (`<reports>/<run_id>/`) and where each of its files lives: the
    one place that names them (DESIGN "Reports"), for a run, a merge and a shard alike.

    The record is `run.json`; each stage's log is `logs/<stem>.log` (`file_stem`); the
    files a stage's tests leave (JUnit, the session's account, selection) are under
    `tests/`. The report files' names are `reports/formats.py`'s.
    """

    RECORD: ClassVar[str] = "run.json"
    LOGS: ClassVar[str] = "logs"
    TESTS: ClassVar[str] = "tests"

    path: Path

    @property
    def record(self) -> Path:
        """The run record."""
        return self.path / self.RECORD

    @property
    def logs(self) -> Path:
        """The stages' logs."""
        return self.path / self.LOGS

    @property
    def tests(self) -> Path:
        """What the stages' test sessions leave."""
        return self.path / self.TESTS

    def log(self, stage: str) -> Path:
        """Stage `stage`'s log."""
        return self.logs / stage_log_name(stage)


def stage_log_name(stage: str, stem: str | None = None) -> str:
    """The file name of stage `stage`'s log (`stem`: a part's own stem, if given)."""
    return f"{stem or file_stem(stage)}.log"
