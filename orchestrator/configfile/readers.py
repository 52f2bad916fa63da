"""Small readers of TOML values: each converts one value or says, in a phrase, what is wrong.

`fields` reads a table with fixed keys into a dataclass and `table_of` a table of free
names; both keep what they were built from (`Fields.model`, `Fields.readers`,
`TableOf.item`) so a test can check that every dataclass field has a reader and every
reader a field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

UNKNOWN_KEY = "unknown key (check the spelling)"


class Invalid(ValueError):
    """A value that a reader cannot accept; the message completes "<key>: ..."."""


@dataclass
class Problems:
    """Problems found so far, each as "key.path: what is wrong"."""

    lines: list[str] = field(default_factory=list)

    def add(self, path: tuple[str, ...], message: str) -> None:
        """Record one problem at `path`."""
        self.lines.append(f"{'.'.join(path) or '(top level)'}: {message}")


# A reader converts one value found at `path`; it returns INVALID after recording why.
Reader = Callable[[Any, tuple[str, ...], Problems], Any]
INVALID: Final = object()


def scalar(convert: Callable[[Any], Any]) -> Reader:
    def read(value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        try:
            return convert(value)
        except Invalid as exc:
            problems.add(path, str(exc))
            return INVALID

    return read


def _bounds(
    value: float, gt: float | None, ge: float | None, le: float | None, lt: float | None = None
) -> None:
    if gt is not None and not value > gt:
        raise Invalid(f"must be greater than {gt:g} (got {value:g})")
    if ge is not None and not value >= ge:
        raise Invalid(f"must be at least {ge:g} (got {value:g})")
    if le is not None and not value <= le:
        raise Invalid(f"must be at most {le:g} (got {value:g})")
    if lt is not None and not value < lt:
        raise Invalid(f"must be less than {lt:g} (got {value:g})")


def integer(*, gt: int | None = None, ge: int | None = None, le: int | None = None) -> Reader:
    """A TOML integer within the bounds."""

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be an integer, not {describe(value)}")
        _bounds(value, gt, ge, le)
        return value

    return scalar(convert)


def number(
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Reader:
    """A finite TOML number (an integer is fine) within the bounds."""

    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"must be a number, not {describe(value)}")
        if not math.isfinite(value):
            raise Invalid(f"must be a finite number (got {value})")
        _bounds(value, gt, ge, le, lt)
        return float(value)

    return scalar(convert)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {describe(value)}")
    return value


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {describe(value)}")
    return value


def strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(f"must be a list of strings, not {describe(value)}")
    return tuple(value)


def choice(*allowed: str) -> Reader:
    """One of a few fixed strings."""

    def convert(value: Any) -> str:
        if value not in allowed:
            names = ", ".join(f'"{name}"' for name in allowed)
            raise Invalid(f"must be one of {names}, not {describe(value)}")
        return str(value)

    return scalar(convert)


class TableOf:
    """A table whose keys are free (names) and whose values all go through `item`."""

    # A plain class: the configuration is read on the way to the first stage, and a
    # dataclass costs more to define than this one needs.
    def __init__(
        self, item: Reader, key_problem: Callable[[str], str | None] | None = None
    ) -> None:
        self.item = item
        self.key_problem = key_problem  # what is wrong with a name, or None when it is fine

    def __call__(self, value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        """The table as a read-only mapping, or INVALID after recording why."""
        if not isinstance(value, dict):
            problems.add(path, f"must be a table, not {describe(value)}")
            return INVALID
        valid = True
        if self.key_problem is not None:
            for key in value:
                problem = self.key_problem(key)
                if problem is not None:
                    problems.add((*path, shown_key(key)), problem)
                    valid = False
        result = {
            key: self.item(
                item, (*path, shown_key(key) if control_characters(key) else key), problems
            )
            for key, item in value.items()
        }
        if not valid or any(item is INVALID for item in result.values()):
            return INVALID
        return MappingProxyType(result)


def table_of(reader: Reader, key_problem: Callable[[str], str | None] | None = None) -> TableOf:
    """A table of free names, each value read by `reader`; `key_problem` judges each name."""
    return TableOf(reader, key_problem)


def control_characters(text: str) -> bool:
    """Whether `text` holds a control character (newline, tab, NUL, ESC, DEL ...)."""
    return any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text)


def shown_key(key: str) -> str:
    """A key as a problem line can show it: quoted and escaped when it is not plain."""
    if key and not control_characters(key) and key.strip() == key and "." not in key:
        return key
    return '"' + key.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


if TYPE_CHECKING:  # annotations only: no typing objects built on the way to a run
    Check = Callable[[dict[str, Any], tuple[str, ...], Problems], bool]


class Fields:
    """A table with fixed keys read into `model`: each key by its reader, unknown refused.

    `build` makes the value from the keys found (default: `model` itself); `check` sees
    the raw table for rules across keys. A plain class, as TableOf.
    """

    def __init__(
        self,
        model: type,
        readers: Mapping[str, Reader],
        check: Check | None = None,
        build: Callable[..., Any] | None = None,
    ) -> None:
        self.model = model
        self.readers = readers
        self.check = check
        self.build = build

    def __call__(self, value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        """The `model` value, or INVALID after recording every problem."""
        if not isinstance(value, dict):
            problems.add(path, f"must be a table, not {describe(value)}")
            return INVALID
        found: dict[str, Any] = {}
        valid = True
        for key, item in value.items():
            reader = self.readers.get(key)
            if reader is None:
                problems.add((*path, key), unknown_key(key, self.readers))
                valid = False
                continue
            found[key] = reader(item, (*path, key), problems)
            valid = valid and found[key] is not INVALID
        if self.check is not None and not self.check(value, path, problems):
            valid = False
        return (self.build or self.model)(**found) if valid else INVALID


def unknown_key(key: str, known: Iterable[str]) -> str:
    """ "unknown key; did you mean "timeout"?" with the nearest known key (difflib's
    ratio at least 0.6), else "unknown key (check the spelling)"."""
    # difflib loads only for a configuration with a mistake in it.
    from difflib import get_close_matches  # noqa: PLC0415 - see the comment above

    near = get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'unknown key; did you mean "{near[0]}"?' if near else UNKNOWN_KEY


def fields(model: type, readers: Mapping[str, Reader], check: Check | None = None) -> Fields:
    """A table with fixed keys read into the dataclass `model`."""
    return Fields(model, readers, check)


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'"{shown}"'
    return repr(value)
