"""Secret values never reach a log or a report: they are replaced by `***`.

A variable counts as secret when its name contains TOKEN, SECRET, PASSWORD or KEY
(DESIGN.md, "Secrets"), whether inherited or set in a stage's `env`. Very short values
are left alone: masking every "1" or "true" would destroy logs without hiding anything.
A value of several lines (a PEM key) is masked line by line, as the GitHub runner does:
a tool may print it one line at a time, or with other line endings, and each line of a
key is as secret as the whole.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
MASK = "***"
MIN_SECRET_LENGTH = 4


def secret_values(*environments: Mapping[str, str]) -> tuple[str, ...]:
    """Values of secret-looking variables, longest first so overlaps mask whole."""
    values = {
        line
        for env in environments
        for name, value in env.items()
        if SECRET_NAME.search(name)
        for line in _secret_lines(value)
    }
    return tuple(sorted(values, key=len, reverse=True))


def run_masker(
    stage_envs: Iterable[Mapping[str, str]], environ: Mapping[str, str] | None = None
) -> Masker:
    """The one masker for what workflow prints or writes: the secrets of `environ` (this
    process's environment by default) and of every stage's own `env` (`stage_envs`)."""
    return Masker(secret_values(os.environ if environ is None else environ, *stage_envs))


def _secret_lines(value: str) -> list[str]:
    """The parts of one value to mask: the value, or each line of a multi-line one."""
    lines = (
        [line.strip() for line in value.splitlines()] if "\n" in value or "\r" in value else [value]
    )
    return [line for line in lines if len(line) >= MIN_SECRET_LENGTH]


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

    def spans(self, data: bytes | str) -> list[tuple[int, int]]:
        """Where secrets occur in `data`: (start, end) offsets, in bytes or characters."""
        if isinstance(data, bytes):
            return [] if self._bytes is None else [m.span() for m in self._bytes.finditer(data)]
        return [] if self._text is None else [m.span() for m in self._text.finditer(data)]

    def mask_bytes(self, data: bytes) -> bytes:
        """`data` with every secret (UTF-8 encoded) replaced."""
        return data if self._bytes is None else self._bytes.sub(MASK.encode(), data)


def mask_fields(value: T, masker: Masker) -> T:
    """`value` (a record, or any dataclass, tuple, list or dict of them) with every string
    masked; enum members (statuses) are fixed words and stay as they are."""
    if not masker.values:
        return value
    masked: T = _mask_any(value, masker)
    return masked


def _mask_any(value: Any, masker: Masker) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, tuple | list):
        return type(value)(_mask_any(item, masker) for item in value)
    if isinstance(value, dict):
        return {key: _mask_any(item, masker) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _mask_any(getattr(value, f.name), masker) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value
