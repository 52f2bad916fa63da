"""Part K of N: the one reader and writer of the "K/N" labels of parts and shards.

A split stage's parts (`StagePart.part`), a shard (`RunRecord.shard`, `--shard`) and a
shard plan's entries (`unit[2/3]`) all name "part K of N" as the text "K/N". The record
keeps that text (DESIGN's JSON shape); code that needs the numbers reads it here, so
every label is parsed by one rule and written by one format.
"""

from __future__ import annotations

from typing import NamedTuple


class PartLabel(NamedTuple):
    """Part `number` of `total`, counted from 1 (1 <= number <= total); orders by (K, N)."""

    number: int
    total: int

    def __str__(self) -> str:
        return f"{self.number}/{self.total}"

    @classmethod
    def of(cls, zero_based: int, total: int) -> PartLabel:
        """The label of part `zero_based` (counted from 0) of `total`."""
        return cls(zero_based + 1, total)

    @classmethod
    def parse(cls, text: str | None) -> PartLabel | None:
        """ "K/N" -> PartLabel(K, N); None for anything else (no slash, not digits,
        K outside 1..N). Spaces around either number are allowed, as `--shard " 2/3"`."""
        index, slash, total = (text or "").partition("/")
        index, total = index.strip(), total.strip()
        if not (slash and index.isdigit() and total.isdigit()):
            return None
        label = cls(int(index), int(total))
        return label if 1 <= label.number <= label.total else None


def label_total(text: str | None) -> int | None:
    """N of a "K/N" label; None when `text` is not one."""
    label = PartLabel.parse(text)
    return None if label is None else label.total
