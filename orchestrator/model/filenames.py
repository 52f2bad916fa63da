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
