"""Durations and sizes the way a person reads them, for every message and report."""

from __future__ import annotations


def seconds(value: float) -> str:
    """A duration the way a person reads it in a message."""
    return f"{value:.1f}s" if value < 100 else f"{value:.0f}s"


def size(value: float) -> str:
    """A byte count in binary units, for memory messages."""
    if value < 1024:
        return f"{value:.0f} B"
    for unit in ("KiB", "MiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"
