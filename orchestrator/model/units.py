"""Durations, sizes, shares and tables the way a person reads them.

The one set of formatters for messages, the terminal, markdown and HTML reports, so the
same figure reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

MIB = 1024 * 1024  # bytes in a mebibyte: memory targets, the cache's size, the live view


def count(number: int, noun: str) -> str:
    """`1 stage`, `3 stages`: a count with its noun (English plural in -s)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def seconds(value: float, digits: int = 1) -> str:
    """A duration in seconds with about three significant figures: `digits` decimals
    (1: "12.3s"; 2 where short stages matter: "1.23s"), one fewer from 10**(3 - digits)
    on ("123s", "12.3s")."""
    shown = digits if value < 10 ** (3 - digits) else digits - 1
    return f"{value:.{shown}f}s"


def fixed_seconds(value: float, digits: int = 1, *, signed: bool = False) -> str:
    """A duration in seconds with exactly `digits` decimals ("12.3s", "+0.125s" when
    `signed`): lines that quote a figure as measured, or two figures side by side, where
    `seconds`' three significant figures would hide the difference."""
    return f"{value:{'+' if signed else ''}.{digits}f}s"


def size(value: float) -> str:
    """A byte count in binary units, for memory messages."""
    if value < 1024:
        return f"{value:.0f} B"
    for unit in ("KiB", "MiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"


def percent(value: float) -> str:
    """A share in percent, whole: "84%"."""
    return f"{value:.0f}%"


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as left-aligned columns two spaces apart, trailing spaces trimmed: the terminal
    tables. Every row has the first row's number of cells."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def markdown_row(cells: Sequence[str]) -> str:
    """One markdown table row, "| a | b |"; cells must already be escaped for markdown."""
    return "| " + " | ".join(cells) + " |"
