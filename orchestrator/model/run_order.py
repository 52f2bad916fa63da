"""The one order of runs: by start instant, and runs that started together by recording.

`workflow history`, the trend windows ("the last 5 runs" against "the 20 before them"),
the scheduler's expectations and `history import` must all agree on which run came
after which, or records that arrive close together (merged shards, a CI retry, imports
of several jobs) land in the wrong window. Start times are compared as instants, never
as text: records from other machines carry other UTC offsets, and older records have
whole seconds where newer ones have microseconds. Runs with the same instant keep the
order they were recorded in (the history's `seq` column); nothing random (such as the
random part of a run id) ever decides.

The history database orders in SQL by `started_utc` (written by `utc_key`), newest
first, and then `seq` (the order of recording), newest first: the same order as
`newest_first` over records given newest-recorded first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

EARLIEST = datetime.min.replace(tzinfo=UTC)  # where a start time that cannot be read sorts
# This order in SQL, over the history's `runs` columns (`started_utc` is `utc_key`, `seq`
# the order of recording). Each query of the history spells these terms out (SQL built
# from pieces is what the linters refuse); a unit test holds every query to them.
NEWEST_FIRST_SQL = "started_utc DESC, seq DESC"
OLDEST_FIRST_SQL = "started_utc, seq"


class _Started(Protocol):
    @property
    def started_at(self) -> str: ...


Item = TypeVar("Item")
Run = TypeVar("Run", bound=_Started)


def started_text(now: datetime) -> str:
    """A run's `started_at`: ISO 8601 in UTC to the microsecond, with its offset.

    Runs started one after another within a second still differ, e.g.
    "2026-11-30T16:08:12.123456+00:00".
    """
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def started_instant(started_at: str) -> datetime:
    """The moment a `started_at` names, timezone-aware in UTC.

    A time without an offset is taken as UTC (as older records were written); text that
    is not ISO 8601 at all sorts before every real time (`EARLIEST`) instead of failing a
    listing.
    """
    try:
        moment = datetime.fromisoformat(started_at)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or before year 1 once in UTC
        return EARLIEST


def started_at_problem(started_at: str) -> str | None:
    """Why `started_at` cannot place a record in time, or None when it can.

    Records coming into the history (`history import`) need an ISO 8601 time with an
    explicit UTC offset, as DESIGN's run record has it; whole seconds are fine.
    """
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return f"{started_at!r} is not an ISO 8601 time"
    if moment.tzinfo is None:
        return f"{started_at!r} has no UTC offset (write e.g. {started_at}+00:00)"
    return None


def utc_key(started_at: str) -> str:
    """The start instant as fixed-width UTC text, so that text order is time order.

    Always 32 characters ("YYYY-MM-DDTHH:MM:SS.ffffff+00:00"); the history stores it in
    `started_utc` to sort in SQL.
    """
    return started_instant(started_at).isoformat(timespec="microseconds")


def newest_first(items: Iterable[Item], started_at: Callable[[Item], str]) -> list[Item]:
    """Items by start instant, newest first; items with the same instant keep their order.

    Give the items newest-recorded first (as `HistoryStore.runs` lists them) and the
    result is the history's order.
    """
    return sorted(items, key=lambda item: started_instant(started_at(item)), reverse=True)


def oldest_first(items: Iterable[Item], started_at: Callable[[Item], str]) -> list[Item]:
    """`newest_first` reversed: the order the runs happened in, for windows over time."""
    return newest_first(items, started_at)[::-1]


def runs_oldest_first(runs: Iterable[Run]) -> list[Run]:
    """Run records (given newest-recorded first) in the order they happened."""
    return oldest_first(runs, _started_at)


def _started_at(run: _Started) -> str:
    return run.started_at
