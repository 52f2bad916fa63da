"""Raw TOML data -> `WorkflowConfig`, with every problem reported at once.

Each key is read by a small reader that converts the value or says, in one phrase, what
was wrong with it; a problem names its full key path (`stages.unit.timeout`), so a user
fixing a config gets the whole list in one go, never a traceback and never only the first
mistake. Types follow TOML: an integer is accepted where a number is expected, never the
other way round, and a boolean is never a number.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

from orchestrator.model.config import (
    LANE_DEFAULTS,
    DetectConfig,
    Lane,
    LaneConfig,
    LanesConfig,
    SlaConfig,
    StageConfig,
    Strategy,
    TrendConfig,
    WorkflowConfig,
    WorkflowSection,
)

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


# A reader converts one value found at `path`; it returns _INVALID after recording why.
Reader = Callable[[Any, tuple[str, ...], Problems], Any]
_INVALID: Final = object()


def _scalar(convert: Callable[[Any], Any]) -> Reader:
    def read(value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        try:
            return convert(value)
        except Invalid as exc:
            problems.add(path, str(exc))
            return _INVALID

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
            raise Invalid(f"must be an integer, not {_describe(value)}")
        _bounds(value, gt, ge, le)
        return value

    return _scalar(convert)


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
            raise Invalid(f"must be a number, not {_describe(value)}")
        if not math.isfinite(value):
            raise Invalid(f"must be a finite number (got {value})")
        _bounds(value, gt, ge, le, lt)
        return float(value)

    return _scalar(convert)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {_describe(value)}")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {_describe(value)}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(f"must be a list of strings, not {_describe(value)}")
    return tuple(value)


def choice(*allowed: str) -> Reader:
    """One of a few fixed strings."""

    def convert(value: Any) -> str:
        if value not in allowed:
            names = ", ".join(f'"{name}"' for name in allowed)
            raise Invalid(f"must be one of {names}, not {_describe(value)}")
        return str(value)

    return _scalar(convert)


def _workers(value: Any) -> int | str:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value  # type: ignore[no-any-return]  # "auto" or a positive int, checked
    raise Invalid(f'must be a positive integer or "auto", not {_describe(value)}')


def _command(value: Any) -> tuple[str, ...]:
    # A string is split the way a shell would split it, but never run by a shell.
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise Invalid(f"cannot split the command: {exc}") from exc
    argv = _strings(value)
    if not argv or not argv[0].strip():
        raise Invalid("the command is empty")
    return argv


def _callable_target(value: Any) -> str:
    target = _string(value)
    module, sep, func = target.partition(":")
    if not sep or not module.strip() or not func.strip():
        raise Invalid('must look like "package.module:function"')
    return target


def table_of(reader: Reader) -> Reader:
    """A table whose keys are free (names) and whose values all go through `reader`."""

    def read(value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        if not isinstance(value, dict):
            problems.add(path, f"must be a table, not {_describe(value)}")
            return _INVALID
        result = {key: reader(item, (*path, key), problems) for key, item in value.items()}
        if any(item is _INVALID for item in result.values()):
            return _INVALID
        return MappingProxyType(result)

    return read


def fields(
    build: Callable[..., Any],
    readers: Mapping[str, Reader],
    check: Callable[[dict[str, Any], tuple[str, ...], Problems], bool] | None = None,
) -> Reader:
    """A table with fixed keys: each known key read by its reader, unknown keys refused."""

    def read(value: Any, path: tuple[str, ...], problems: Problems) -> Any:
        if not isinstance(value, dict):
            problems.add(path, f"must be a table, not {_describe(value)}")
            return _INVALID
        found: dict[str, Any] = {}
        valid = True
        for key, item in value.items():
            reader = readers.get(key)
            if reader is None:
                problems.add((*path, key), UNKNOWN_KEY)
                valid = False
                continue
            found[key] = reader(item, (*path, key), problems)
            valid = valid and found[key] is not _INVALID
        if check is not None and not check(value, path, problems):
            valid = False
        return build(**found) if valid else _INVALID

    return read


def _one_of_run_or_call(raw: dict[str, Any], path: tuple[str, ...], problems: Problems) -> bool:
    if ("run" in raw) == ("call" in raw):
        problems.add(path, 'needs exactly one of "run" (a command) or "call" (a function)')
        return False
    return True


_STAGE = fields(
    StageConfig,
    {
        "number": integer(ge=0),
        "run": _scalar(_command),
        "call": _scalar(_callable_target),
        "cwd": _scalar(_string),
        "timeout": number(gt=0),
        "kill_grace": number(ge=0),
        "serial": _scalar(_boolean),
        "kind": choice("io", "cpu"),
        "needs": _scalar(_strings),
        "retries": integer(ge=0, le=10),
        "env": table_of(_scalar(_string)),
    },
    _one_of_run_or_call,
)


def _lane(lane: Lane) -> Reader:
    # Keys a user leaves out keep this lane's own defaults, not another lane's.
    def build(**values: Any) -> LaneConfig:
        if "strategy" in values:
            values["strategy"] = Strategy(values["strategy"])
        return replace(LANE_DEFAULTS[lane], **values)

    return fields(
        build,
        {
            "stages": _scalar(_strings),
            "strategy": choice(*(strategy.value for strategy in Strategy)),
            "workers": _scalar(_workers),
            "stage_sla": number(gt=0),
            "budget": number(gt=0),
            "fail_fast": _scalar(_boolean),
            "sla": table_of(number(gt=0)),
            "max_rss_mb": table_of(number(gt=0)),
        },
    )


_CONFIG = fields(
    WorkflowConfig,
    {
        "workflow": fields(
            WorkflowSection, {"history": _scalar(_string), "reports": _scalar(_string)}
        ),
        "stages": table_of(_STAGE),
        "lanes": fields(LanesConfig, {lane.value: _lane(lane) for lane in Lane}),
        "detect": fields(
            DetectConfig,
            {
                "docs": _scalar(_strings),
                "heavy": _scalar(_strings),
                "heavy_files": integer(gt=0),
                "heavy_lines": integer(gt=0),
            },
        ),
        "sla": fields(
            SlaConfig,
            {"warning_ratio": number(gt=0, le=1), "critical": _scalar(_strings)},
        ),
        "trend": fields(
            TrendConfig,
            {
                "recent": integer(ge=2),
                "baseline": integer(ge=3),
                "min_increase": number(ge=0),
                "min_seconds": number(ge=0),
                "significance": number(gt=0, lt=1),
            },
        ),
    },
)


def parse_config(data: Mapping[str, Any]) -> tuple[WorkflowConfig | None, list[str]]:
    """The configuration in `data`, or None and one line per problem ("key: what")."""
    problems = Problems()
    config = _CONFIG(dict(data), (), problems)
    if not isinstance(config, WorkflowConfig) or problems.lines:
        return None, problems.lines
    return config, []


def _describe(value: Any) -> str:
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
