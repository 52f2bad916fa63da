"""Find, read and validate the configuration, reporting every problem at once.

Structure and types are checked by `configfile.schema`; references between tables (`needs`,
lane stage lists, SLA overrides) are checked here on the raw data, so that a type error in
one stage does not hide a dangling `needs` in another.
"""

from __future__ import annotations

import graphlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from orchestrator.configfile.defaults import ProjectFiles, default_stages
from orchestrator.configfile.schema import parse_config
from orchestrator.model.config import WorkflowConfig
from orchestrator.model.errors import ConfigError
from orchestrator.model.ownpaths import with_companions
from orchestrator.model.plain import to_data
from orchestrator.model.textinput import read_text

WORKFLOW_TOML = "workflow.toml"
PYPROJECT_TOML = "pyproject.toml"


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration and where it came from."""

    config: WorkflowConfig
    path: Path | None  # None: built-in defaults, no file
    root: Path  # directory that relative paths in the config are resolved against
    key_prefix: str = ""  # "tool.workflow." when read from pyproject.toml
    # Built-in stages: how each was chosen or why it was left out (one line each).
    notes: tuple[str, ...] = ()
    # Where workflow's own outputs ([workflow] reports, history, cache) resolve, when not
    # `root`: a pushed commit checked in a temporary worktree reports into the project.
    outputs: Path | None = None

    @property
    def source(self) -> str:
        """A short description of where the settings came from, for messages."""
        if self.path is None:
            return "built-in defaults (no workflow.toml or [tool.workflow] in pyproject.toml)"
        return str(self.path)

    @property
    def digest(self) -> str:
        """A digest of the validated configuration (its values, not its file's text), so
        that `workflow merge` refuses shards that read different ones."""
        # hashlib and json load only for a shard's run, never on a plain run's way to its
        # first stage: this property's deferred imports.
        import hashlib  # noqa: PLC0415 - see the comment above
        import json  # noqa: PLC0415 - see the comment above

        text = json.dumps(to_data(self.config), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's directory."""
        return (self.root / relative).resolve()

    def output_path(self, relative: str) -> Path:
        """One of workflow's own outputs ([workflow] reports, history, cache): relative to
        the config file's directory, or to `outputs` when set."""
        return ((self.outputs or self.root) / relative).resolve()

    def own_outputs(self, report_dir: Path | None = None) -> tuple[Path, ...]:
        """What workflow itself writes in the project (absolute): the reports directory
        (`report_dir` when a run names another), the history file with SQLite's files
        beside it, and the result cache (each unless turned off). Never a change, never a
        cache input: the lane and the cache key both take this list."""
        section = self.config.workflow
        reports = (report_dir or self.output_path(section.reports)).resolve()
        history = () if self.history_file is None else with_companions(self.history_file)
        cache = (self.output_path(section.cache),) if section.cache.strip() else ()
        return (reports, *history, *cache)

    @property
    def history_file(self) -> Path | None:
        """Where the history database lives, or None when the config turned history off."""
        setting = self.config.workflow.history
        return self.output_path(setting) if setting.strip() else None


def load_config(
    path: Path | None = None,
    *,
    cwd: Path | None = None,
    files: ProjectFiles | None = None,
    outputs: Path | None = None,
) -> LoadedConfig:
    """Load `path`, or look for workflow.toml then pyproject.toml in `cwd`.

    `files` lists the project's files for the built-in stages (what git tracks; the command
    line passes git's list, this layer never runs git itself); without it the built-in
    stages look at the directory, virtualenvs and build trees left out. `outputs` is where
    workflow's own outputs resolve, when not beside the configuration.
    """
    loaded = _load(path, cwd, files)
    return loaded if outputs is None else replace(loaded, outputs=outputs.resolve())


def _load(path: Path | None, cwd: Path | None, files: ProjectFiles | None) -> LoadedConfig:
    base = (cwd or Path.cwd()).resolve()
    lister = files or _no_listing
    if path is not None:
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            what = "is not a regular file" if path.exists() else "configuration file not found"
            raise ConfigError(f"{path}: {what}.")
        data = _read_toml(path)
        if path.name == PYPROJECT_TOML and path != base / WORKFLOW_TOML:
            return _from_pyproject(path, data, lister)
        return _validated(data, path, "", lister)
    candidate = base / WORKFLOW_TOML
    if candidate.is_file():
        return _validated(_read_toml(candidate), candidate, "", lister)
    pyproject = base / PYPROJECT_TOML
    if pyproject.is_file():
        data = _read_toml(pyproject)
        if isinstance(data.get("tool"), dict) and "workflow" in data["tool"]:
            return _from_pyproject(pyproject, data, lister)
    built_in = default_stages(base, lister(base))
    config = WorkflowConfig(stages=MappingProxyType(built_in.stages))
    return LoadedConfig(config=config, path=None, root=base, notes=built_in.notes)


def _no_listing(_root: Path) -> list[str] | None:
    return None


def _from_pyproject(path: Path, data: dict[str, Any], lister: ProjectFiles) -> LoadedConfig:
    tool = data.get("tool", {})
    section = tool.get("workflow") if isinstance(tool, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: tool.workflow: no [tool.workflow] table found.")
    return _validated(section, path, "tool.workflow.", lister)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = read_text(path)  # a BOM or CRLF line ends from a Windows editor are fine
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {_describe_toml_error(exc)}") from exc


def _describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if match is None:
        return f"invalid TOML: {message}."
    what = message[: match.start()].strip()
    return f"line {match.group(1)}, column {match.group(2)}: invalid TOML: {what}."


def _validated(data: dict[str, Any], path: Path, prefix: str, lister: ProjectFiles) -> LoadedConfig:
    data = _with_stage_numbers(data)
    config, found = parse_config(data)
    problems = [f"{prefix}{line}" for line in found]
    problems.extend(f"{prefix}{line}" for line in reference_problems(data))
    if problems or config is None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        raise ConfigError(
            f"{path}: {count} configuration {noun}:",
            details=tuple(f"{path}: {line}" for line in _unique(problems)),
        )
    notes: tuple[str, ...] = ()
    if not config.stages:
        root = path.parent
        built_in = default_stages(root, lister(root), config.detect.docs)
        config = replace(config, stages=MappingProxyType(built_in.stages))
        notes = built_in.notes
    root = path.parent.resolve()
    return LoadedConfig(config=config, path=path, root=root, key_prefix=prefix, notes=notes)


def _with_stage_numbers(data: dict[str, Any]) -> dict[str, Any]:
    # A stage without `number` is numbered by its place in the file, from 2 (stage 1 is
    # the commit itself by the seed's convention).
    stages = data.get("stages")
    if not isinstance(stages, dict):
        return data
    numbered = {
        name: ({"number": index + 2, **value} if isinstance(value, dict) else value)
        for index, (name, value) in enumerate(stages.items())
    }
    return {**data, "stages": numbered}


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def reference_problems(data: Mapping[str, Any]) -> list[str]:
    """Dangling stage names and `needs` cycles, found on the raw (possibly invalid) data."""
    stages = data.get("stages")
    if not isinstance(stages, dict):
        return []
    names = set(stages)
    problems = list(_needs_problems(stages, names))
    problems.extend(_lane_problems(data.get("lanes"), names))
    problems.extend(_uses_problems(stages, data.get("resources")))
    sla = data.get("sla")
    if isinstance(sla, dict):
        problems.extend(_unknown_names(sla.get("critical"), names, "sla.critical"))
    return problems


def _needs_problems(stages: Mapping[str, Any], names: set[str]) -> Iterable[str]:
    graph: dict[str, list[str]] = {}
    for name, stage in stages.items():
        needs = stage.get("needs") if isinstance(stage, dict) else None
        if not isinstance(needs, list):
            continue
        valid = [need for need in needs if isinstance(need, str)]
        yield from _unknown_names(valid, names, f"stages.{name}.needs")
        if name in valid:
            yield f"stages.{name}.needs: a stage cannot need itself"
        graph[name] = [need for need in valid if need in names and need != name]
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(reversed(exc.args[1]))
        yield f"stages: the needs form a cycle: {cycle}"


def _uses_problems(stages: Mapping[str, Any], resources: Any) -> Iterable[str]:
    # A stage may only hold a resource that [resources] limits: a misspelt name would
    # otherwise hold nothing and the stages meant to take turns would run together.
    declared = set(resources) if isinstance(resources, dict) else set()
    known = ", ".join(sorted(declared)) or "none declared"
    for name, stage in stages.items():
        uses = stage.get("uses") if isinstance(stage, dict) else None
        if not isinstance(uses, list):
            continue
        for value in uses:
            if isinstance(value, str) and value not in declared:
                yield f'stages.{name}.uses: "{value}" is not in [resources] ({known})'


def _lane_problems(lanes: Any, names: set[str]) -> Iterable[str]:
    if not isinstance(lanes, dict):
        return
    for lane_name, lane in lanes.items():
        if not isinstance(lane, dict):
            continue
        yield from _unknown_names(lane.get("stages"), names, f"lanes.{lane_name}.stages")
        for table in ("sla", "max_rss_mb"):
            overrides = lane.get(table)
            if isinstance(overrides, dict):
                yield from _unknown_names(list(overrides), names, f"lanes.{lane_name}.{table}")


def _unknown_names(values: Any, names: set[str], key: str) -> Iterable[str]:
    if not isinstance(values, list):
        return
    for value in values:
        if isinstance(value, str) and value not in names:
            known = ", ".join(sorted(names)) or "none"
            yield f'{key}: "{value}" is not a stage (stages: {known})'
