"""Raw TOML data -> `WorkflowConfig`, with every problem reported at once.

Each key is read by a small reader that converts the value or says, in one phrase, what
was wrong with it; a problem names its full key path (`stages.unit.timeout`), so a user
fixing a config gets the whole list in one go, never a traceback and never only the first
mistake. Types follow TOML: an integer is accepted where a number is expected, never the
other way round, and a boolean is never a number.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from orchestrator.configfile.readers import (
    Fields,
    Invalid,
    Problems,
    Reader,
    boolean,
    choice,
    control_characters,
    describe,
    fields,
    integer,
    number,
    scalar,
    string,
    strings,
    table_of,
)
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
from orchestrator.model.masking import SECRET_NAME
from orchestrator.model.pytestargv import is_pytest

MAX_SPLIT = 64  # parts of one stage: more processes than any runner has cores


def _workers(value: Any) -> int | str:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value  # type: ignore[no-any-return]  # "auto" or a positive int, checked
    raise Invalid(f'must be a positive integer or "auto", not {describe(value)}')


def _command(value: Any) -> tuple[str, ...]:
    # A string is split the way a shell would split it, but never run by a shell.
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise Invalid(f"cannot split the command: {exc}") from exc
    argv = strings(value)
    if not argv or not argv[0].strip():
        raise Invalid("the command is empty")
    for index, arg in enumerate(argv):
        if "\0" in arg:
            raise Invalid(
                f"argument {index + 1} contains a NUL character, which no command can get"
            )
    return argv


def _no_nul(value: Any) -> str:
    text = string(value)
    if "\0" in text:
        raise Invalid("contains a NUL character")
    return text


def _env_name_problem(name: str) -> str | None:
    # What the operating system refuses as a variable name (os.environ / execve).
    if not name:
        return "an environment variable name cannot be empty"
    if "=" in name or "\0" in name:
        return "an environment variable name cannot contain '=' or a NUL character"
    return None


def _stage_name_problem(name: str) -> str | None:
    # Names are printed on the console, in CI annotations and log file names.
    if not name.strip():
        return "a stage name cannot be empty"
    if control_characters(name):
        return "a stage name cannot contain control characters (newline, tab, escape ...)"
    return None


def _callable_target(value: Any) -> str:
    target = _no_nul(value)
    module, sep, func = target.partition(":")
    if not sep or not module.strip() or not func.strip():
        raise Invalid('must look like "package.module:function"')
    return target


def _variable_names(value: Any) -> tuple[str, ...]:
    names = strings(value)
    bad = [name for name in names if _env_name_problem(name) is not None]
    if bad:
        raise Invalid(f"must name environment variables, not {describe(bad[0])}")
    return names


def _cache_env(value: Any) -> tuple[str, ...]:
    # A secret's digest in a cache file could be tried against guesses: never keyed.
    names = _variable_names(value)
    secret = [name for name in names if SECRET_NAME.search(name)]
    if secret:
        raise Invalid(
            f'"{secret[0]}" looks like a secret (TOKEN, SECRET, PASSWORD or KEY in its '
            "name): a secret cannot be part of a cache key; leave it out"
        )
    return names


def _patterns(value: Any) -> tuple[str, ...]:
    # Compiled here, so `validate` catches what would otherwise end a run part-way. The
    # glob matcher loads only for a configuration that lists patterns (start-up time).
    # This module's one deferred import.
    from orchestrator.model.globs import pattern_problem  # noqa: PLC0415 - see above

    patterns = strings(value)
    for text in patterns:
        problem = pattern_problem(text)
        if problem is not None:
            raise Invalid(problem)
    return patterns


def _junit(value: Any) -> str | bool:
    if value is False or (isinstance(value, str) and value.strip()):
        return value
    raise Invalid(
        f"must be false or the path of the JUnit file the stage writes, not {describe(value)}"
    )


def _split(value: Any) -> int | str:
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        if isinstance(value, int) and value > MAX_SPLIT:
            raise Invalid(f"must be at most {MAX_SPLIT} parts, not {value}")
        return value  # type: ignore[no-any-return]  # "auto" or a positive int, checked
    raise Invalid(f'must be a positive number of parts or "auto", not {describe(value)}')


def _one_of_run_or_call(raw: dict[str, Any], path: tuple[str, ...], problems: Problems) -> bool:
    if ("run" in raw) == ("call" in raw):
        problems.add(path, 'needs exactly one of "run" (a command) or "call" (a function)')
        return False
    ok = True
    for key in ("junit", "rerun_failed", "split", "select"):
        if "call" in raw and key in raw:
            problems.add((*path, key), 'applies to a "run" command, not to a "call" stage')
            ok = False
    pytest_only = [key for key in ("split", "select") if key in raw and raw[key] != "all"]
    if pytest_only and "run" in raw:
        try:
            argv = _command(raw["run"])
        except Invalid:
            return ok  # "run" has its own problem
        if not is_pytest(argv):
            for key in pytest_only:
                problems.add(
                    (*path, key),
                    "applies to a pytest command (pytest, py.test or python -m pytest), "
                    f"not to {argv[0]!r}",
                )
            ok = False
    return ok


_STAGE = fields(
    StageConfig,
    {
        "number": integer(ge=0),
        "run": scalar(_command),
        "call": scalar(_callable_target),
        "cwd": scalar(_no_nul),
        "timeout": number(gt=0),
        "kill_grace": number(ge=0),
        "serial": scalar(boolean),
        "writes": scalar(boolean),
        "uses": scalar(strings),
        "kind": choice("io", "cpu"),
        "needs": scalar(strings),
        "retries": integer(ge=0, le=10),
        "env": table_of(scalar(_no_nul), _env_name_problem),
        "inputs": scalar(_patterns),
        "cache_env": scalar(_cache_env),
        "cache": scalar(boolean),
        "junit": scalar(_junit),
        "rerun_failed": integer(ge=0, le=10),
        "split": scalar(_split),
        "select": choice("all", "affected", "shadow"),
    },
    _one_of_run_or_call,
)


def _lane(lane: Lane) -> Reader:
    # Keys a user leaves out keep this lane's own defaults, not another lane's.
    def build(**values: Any) -> LaneConfig:
        if "strategy" in values:
            values["strategy"] = Strategy(values["strategy"])
        return replace(LANE_DEFAULTS[lane], **values)

    return Fields(
        LaneConfig,
        {
            "stages": scalar(strings),
            "strategy": choice(*(strategy.value for strategy in Strategy)),
            "workers": scalar(_workers),
            "stage_sla": number(gt=0),
            "budget": number(gt=0),
            "fail_fast": scalar(boolean),
            "sla": table_of(number(gt=0)),
            "max_rss_mb": table_of(number(gt=0)),
        },
        build=build,
    )


CONFIG = fields(
    WorkflowConfig,
    {
        "workflow": fields(
            WorkflowSection,
            {
                "history": scalar(_no_nul),
                "reports": scalar(_no_nul),
                "cache": scalar(_no_nul),
                "cache_size_mb": number(gt=0),
                "cache_verify": number(ge=0, le=1),
            },
        ),
        "stages": table_of(_STAGE, _stage_name_problem),
        "lanes": fields(LanesConfig, {lane.value: _lane(lane) for lane in Lane}),
        "detect": fields(
            DetectConfig,
            {
                "docs": scalar(_patterns),
                "heavy": scalar(_patterns),
                "heavy_files": integer(gt=0),
                "heavy_lines": integer(gt=0),
            },
        ),
        "sla": fields(
            SlaConfig,
            {"warning_ratio": number(gt=0, le=1), "critical": scalar(strings)},
        ),
        "trend": fields(
            TrendConfig,
            {
                "recent": integer(ge=2),
                "baseline": integer(ge=3),
                "min_increase": number(ge=0),
                "min_seconds": number(ge=0),
                "significance": number(gt=0, lt=1),
                "test_min_seconds": number(ge=0),
            },
        ),
        "resources": table_of(integer(gt=0)),
    },
)


def parse_config(data: Mapping[str, Any]) -> tuple[WorkflowConfig | None, list[str]]:
    """The configuration in `data`, or None and one line per problem ("key: what")."""
    problems = Problems()
    config = CONFIG(dict(data), (), problems)
    if not isinstance(config, WorkflowConfig) or problems.lines:
        return None, problems.lines
    return config, []
