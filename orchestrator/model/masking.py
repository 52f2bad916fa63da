"""Secret values never reach a log or a report: they are replaced by `***`.

A variable counts as secret when its name contains TOKEN, SECRET, PASSWORD or KEY
(DESIGN.md, "Secrets"), whether inherited or set in a stage's `env`. Very short values
are left alone: masking every "1" or "true" would destroy logs without hiding anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
MASK = "***"
MIN_SECRET_LENGTH = 4


def secret_values(*environments: Mapping[str, str]) -> tuple[str, ...]:
    """Values of secret-looking variables, longest first so overlaps mask whole."""
    values = {
        value
        for env in environments
        for name, value in env.items()
        if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    return tuple(sorted(values, key=len, reverse=True))


class Masker:
    """Replaces known secret values in text and bytes."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = tuple(sorted(set(values), key=len, reverse=True))
        self._text = re.compile("|".join(map(re.escape, self.values))) if self.values else None
        self._bytes = (
            re.compile(b"|".join(re.escape(v.encode()) for v in self.values))
            if self.values
            else None
        )

    @property
    def longest(self) -> int:
        """Length in bytes of the longest secret (how much a stream must hold back)."""
        return max((len(v.encode()) for v in self.values), default=0)

    def mask(self, text: str) -> str:
        """`text` with every secret replaced."""
        return text if self._text is None else self._text.sub(MASK, text)

    def mask_bytes(self, data: bytes) -> bytes:
        """`data` with every secret (UTF-8 encoded) replaced."""
        return data if self._bytes is None else self._bytes.sub(MASK.encode(), data)
